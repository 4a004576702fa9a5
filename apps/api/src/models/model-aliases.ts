/**
 * Operator-defined model aliases: a requested id, with `*` globs, mapped to a catalog model id
 * (`{"claude-*": "qwen3-coder"}`). Plain functions: parsing with bounds, and the match.
 */

/** Most aliases one map may hold (MODEL_ALIASES, the catalog file or the console). */
export const MAX_ALIASES = 200;
/** Longest pattern or target, in characters. */
export const MAX_ALIAS_CHARS = 128;

/** Printable ASCII without spaces: what model ids are made of, plus `*`. */
const PATTERN_CHARS = /^[\x21-\x7e]+$/;

export type AliasMap = Record<string, string>;

/** One alias with what its precedence is decided by. */
export interface CompiledAlias {
  pattern: string;
  target: string;
  /** Characters that are not `*`: more is more specific. */
  literal: number;
  stars: number;
}

/**
 * Checks a raw alias map and returns it clean (trimmed, `**` folded to `*`), or a list of
 * what is wrong with it, each naming the pattern. Targets are checked against the catalog elsewhere.
 */
export function parseAliasMap(raw: unknown): { aliases: AliasMap; problems: string[] } {
  const problems: string[] = [];
  const aliases: AliasMap = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { aliases, problems: ['expected a JSON object {"pattern": "model id"}'] };
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > MAX_ALIASES) return { aliases, problems: [`at most ${MAX_ALIASES} aliases, got ${entries.length}`] };
  for (const [rawPattern, rawTarget] of entries) {
    const pattern = rawPattern.trim().replace(/\*{2,}/g, '*');
    const shown = JSON.stringify(rawPattern.slice(0, MAX_ALIAS_CHARS));
    if (!pattern || pattern.length > MAX_ALIAS_CHARS || !PATTERN_CHARS.test(pattern)) {
      problems.push(`alias ${shown}: a pattern is 1 to ${MAX_ALIAS_CHARS} printable characters without spaces`);
      continue;
    }
    const target = typeof rawTarget === 'string' ? rawTarget.trim() : '';
    if (!target || target.length > MAX_ALIAS_CHARS || target.includes('*')) {
      problems.push(`alias ${shown}: the target must be a model id (1 to ${MAX_ALIAS_CHARS} characters, no "*")`);
      continue;
    }
    if (Object.keys(aliases).some((p) => p.toLowerCase() === pattern.toLowerCase())) {
      problems.push(`alias ${shown}: given twice (patterns match case-insensitively)`);
      continue;
    }
    aliases[pattern] = target;
  }
  return { aliases, problems };
}

/** The aliases in precedence order: most literal characters first, then fewer stars, then by pattern. */
export function compileAliases(aliases: AliasMap): CompiledAlias[] {
  return Object.entries(aliases)
    .map(([pattern, target]) => ({ pattern, target, literal: pattern.replace(/\*/g, '').length, stars: pattern.split('*').length - 1 }))
    .sort((a, b) => b.literal - a.literal || a.stars - b.stars || (a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0));
}

/** The most specific alias whose pattern matches `id` (case-insensitively), if any. */
export function matchAlias(compiled: readonly CompiledAlias[], id: string): CompiledAlias | undefined {
  // Nothing longer than the longest pattern's literal part plus stars could be worth the work; ids are bounded anyway.
  if (id.length > 4 * MAX_ALIAS_CHARS) return undefined;
  const lower = id.toLowerCase();
  return compiled.find((a) => globMatches(a.pattern.toLowerCase(), lower));
}

/**
 * `*` matches any run of characters. Linear backtracking to the last star (no regular
 * expression), so a pattern full of stars cannot make a long id expensive.
 */
export function globMatches(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}
