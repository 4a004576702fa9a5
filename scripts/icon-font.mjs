// Cuts the Material Symbols font (4 MB, ~4,000 icons) down to the icons the console uses (a few
// dozen KB), so that icons show on the first paint of a slow link instead of after a 4 MB font.
// The icon names are found in the console's sources, never kept by hand: the literal text of a
// <mat-icon>, the quoted names in a <mat-icon>{{ … }}</mat-icon> expression, an `icon="…"`
// attribute, and the quoted names after an `icon:` property in TypeScript. A name the font has
// no icon for fails the build, so a typo or a renamed icon cannot ship as a clipped word.
// Run by scripts/build-admin.mjs before `ng build`; writes apps/admin/generated/ (gitignored),
// which apps/admin/src/icons.scss loads.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
const SOURCES = join(root, 'apps/admin/src');
const FONT = require.resolve('material-symbols/material-symbols-outlined.woff2');
export const OUT_DIR = join(root, 'apps/admin/generated');
export const OUT_FONT = join(OUT_DIR, 'material-symbols-outlined-subset.woff2');
export const OUT_LIST = join(OUT_DIR, 'icons.json');

/** Material Symbols ligature names: lower-case words joined by `_`, digits allowed (`counter_1`). */
const NAME = /^[a-z0-9]+(?:_[a-z0-9]+)*$/;
/**
 * The quoted strings an expression can evaluate to: the whole expression, a branch of `? :`, or a
 * fallback after `||`/`??` (not the operand of a comparison: `copied() === 'base' ? 'check' : …`).
 */
const RESULT = /(?:^|\?|:|\|\||\?\?)\s*(['"])([^'"\n]*)\1/g;

function quotedNames(expression) {
  return [...expression.trim().matchAll(RESULT)].map((m) => m[2]).filter((s) => NAME.test(s));
}

/** The icon names one source file uses (see the header for the forms recognised). */
export function iconNames(source) {
  const names = new Set();
  for (const [, content] of source.matchAll(/<mat-icon\b[^>]*>([^<]*)<\/mat-icon>/g)) {
    const text = content.trim();
    if (NAME.test(text)) names.add(text);
    for (const [, expression] of text.matchAll(/\{\{([^}]*)\}\}/g)) quotedNames(expression).forEach((n) => names.add(n));
  }
  for (const [, name] of source.matchAll(/\bicon="([^"]*)"/g)) if (NAME.test(name)) names.add(name);
  for (const [, line] of source.matchAll(/\bicon:\s*([^,\n}]*)/g)) quotedNames(line).forEach((n) => names.add(n));
  return names;
}

/** Every icon the console's templates and code name, sorted. */
export function usedIcons(dir = SOURCES) {
  const names = new Set();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.(?:ts|html)$/.test(entry.name) || entry.name.endsWith('.spec.ts')) continue;
    iconNames(readFileSync(join(entry.parentPath, entry.name), 'utf8')).forEach((n) => names.add(n));
  }
  return [...names].sort();
}

/**
 * The subset: the letters of the used names plus each icon's own code point, without GSUB
 * closure, so the font keeps exactly the ligatures of those names (with closure, any ligature
 * spelled with those letters — nearly all of them — would stay). FILL stays variable (`.filled`);
 * the other axes are pinned where styles.scss sets them.
 */
export async function subsetIcons(names, fontFile = FONT) {
  const fontverter = require('fontverter');
  const subsetFont = require('subset-font');
  const hb = await import('harfbuzzjs');
  const woff2 = readFileSync(fontFile);
  const face = new hb.Face(new hb.Blob(await fontverter.convert(woff2, 'truetype')));
  const font = new hb.Font(face);
  const codepointOf = new Map();
  for (const u of face.collectUnicodes()) {
    const glyph = font.nominalGlyph(u);
    if (glyph !== undefined && !codepointOf.has(glyph)) codepointOf.set(glyph, u);
  }
  const missing = [];
  const codepoints = [];
  for (const name of names) {
    const buffer = new hb.Buffer();
    buffer.addText(name);
    buffer.guessSegmentProperties();
    hb.shape(font, buffer);
    const glyphs = buffer.getGlyphInfos();
    const codepoint = glyphs.length === 1 ? codepointOf.get(glyphs[0].codepoint) : undefined;
    if (codepoint === undefined || codepoint < 0xe000) missing.push(name);
    else codepoints.push(codepoint);
  }
  if (missing.length) throw new Error(`Material Symbols has no icon named: ${missing.join(', ')} (apps/admin/src)`);
  const letters = [...new Set(names.join(''))].join('');
  return subsetFont(woff2, letters + String.fromCodePoint(...codepoints), {
    targetFormat: 'woff2',
    noLayoutClosure: true,
    variationAxes: { wght: 400, GRAD: 0, opsz: 24 },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const names = usedIcons();
  const font = await subsetIcons(names);
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(OUT_FONT, font);
  writeFileSync(OUT_LIST, JSON.stringify(names, null, 2) + '\n');
  console.log(`Icon font: ${names.length} icons, ${(font.length / 1024).toFixed(1)} KB (${OUT_FONT})`);
}
