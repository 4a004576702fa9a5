import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/*
 * The API's layering (docs/architecture.md), checked on the import graph of apps/api/src:
 * no import circle between files (type-only imports included: a circle of types is still a
 * knot for the reader), and no import that runs up the layers. Specs are left out: a test may
 * reach anywhere. Adding a folder means adding it to LAYERS here and in docs/architecture.md.
 */

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../apps/api/src');

/**
 * Lowest first. A unit (a folder of apps/api/src, or a file named in UNIT_OF_FILE) may import
 * itself and any unit of a lower layer; never a unit of its own layer or a higher one.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['common', 'types', 'provider-declarations'],
  ['config'],
  ['storage', 'lifecycle'],
  ['events', 'usage', 'openapi'],
  ['auth'],
  ['media', 'client-keys'],
  ['providers'],
  ['models', 'cluster', 'metrics', 'stats', 'cache'],
  ['routing'],
  ['health'],
  ['openai-compat'],
  ['admin'],
  ['console'],
  ['app'],
];

/** Files whose unit is not their folder's. */
const UNIT_OF_FILE: Readonly<Record<string, string>> = {
  // The decorators that describe the /v1 operations: they read the /v1 DTOs' limits.
  'openapi/openai-docs.ts': 'openai-compat',
  'app.module.ts': 'app',
  'bootstrap.ts': 'app',
  'main.ts': 'app',
};

/**
 * A provider's declaration (`providers/<name>/<name>.provider.ts`: the environment it reads, its
 * model-id rules) and the list of them are plain data that config reads before Nest starts: they
 * sit at the bottom, below config, though they live in the provider's folder.
 */
const DECLARATION_FILE = /^providers\/[^/]+\/[^/]+\.provider\.ts$/;
const DECLARATION_UNIT = 'provider-declarations';
const DECLARATION_FILES = new Set(['providers/provider-declaration.ts', 'providers/builtin-providers.ts']);

interface ImportGraph {
  /** File (relative to the source root) → the files it imports (same form). */
  readonly edges: ReadonlyMap<string, readonly string[]>;
}

function unitOf(file: string): string {
  const named = UNIT_OF_FILE[file];
  if (named) return named;
  if (DECLARATION_FILES.has(file) || DECLARATION_FILE.test(file)) return DECLARATION_UNIT;
  const folder = file.split('/')[0]!;
  return folder;
}

/**
 * Relative imports of every non-test .ts file under root, as the compiler's pre-processor reads them
 * (static, dynamic and type-only). One kind of edge is left out: a provider declaration loading its
 * own adapter with `import()` (see lazyAdapterLoad).
 */
function importGraph(root: string): ImportGraph {
  const edges = new Map<string, string[]>();
  for (const file of sourceFiles(root)) {
    const text = readFileSync(join(root, file), 'utf8');
    const { importedFiles } = ts.preProcessFile(text, true, true);
    const staticNames = staticImports(file, text);
    const targets = importedFiles
      .map((i) => i.fileName)
      .filter((name) => name.startsWith('.'))
      .flatMap((name) => {
        const target = relative(root, resolve(root, dirname(file), name))
          .split('\\')
          .join('/');
        return !staticNames.has(name) && lazyAdapterLoad(file, target) ? [] : [target];
      });
    edges.set(file, targets);
  }
  return { edges };
}

/** The module names of a file's import and export declarations: what loads with it, not later. */
function staticImports(file: string, text: string): Set<string> {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest);
  const names = new Set<string>();
  for (const statement of source.statements) {
    if (
      (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) &&
      statement.moduleSpecifier &&
      ts.isStringLiteral(statement.moduleSpecifier)
    ) {
      names.add(statement.moduleSpecifier.text);
    }
  }
  return names;
}

/**
 * A declaration's `adapter: () => import('./<name>.adapter.ts')`: the one sanctioned way up the
 * layers, a plug-in loaded at run time by the providers module, and only from the declaration into
 * its own folder. Any other dynamic import counts like a static one.
 */
function lazyAdapterLoad(from: string, to: string): boolean {
  return DECLARATION_FILE.test(from) && dirname(from) === dirname(to);
}

/** Every import circle (strongly connected set of two or more files, or a file importing itself). */
function importCircles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.edges.get(file) ?? []) {
      if (!graph.edges.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(file, Math.min(low.get(file)!, index.get(next)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const members: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      members.push(member);
    } while (member !== file);
    if (members.length > 1 || graph.edges.get(file)!.includes(file)) circles.push(members.sort());
  };
  for (const file of graph.edges.keys()) if (!index.has(file)) visit(file);
  return circles;
}

/** Imports that do not run strictly down the layers, as "from → to (unit → unit)". */
function layerViolations(graph: ImportGraph, layers: readonly (readonly string[])[]): string[] {
  const layerOf = new Map(layers.flatMap((units, layer) => units.map((unit) => [unit, layer] as const)));
  const problems: string[] = [];
  for (const [from, targets] of graph.edges) {
    const source = unitOf(from);
    const sourceLayer = layerOf.get(source);
    if (sourceLayer === undefined) {
      problems.push(`${from}: unit "${source}" is in no layer`);
      continue;
    }
    for (const to of targets) {
      const target = unitOf(to);
      if (target === source) continue;
      const targetLayer = layerOf.get(target);
      if (targetLayer === undefined || targetLayer >= sourceLayer) problems.push(`${from} → ${to} (${source} → ${target})`);
    }
  }
  return problems;
}

function sourceFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((file) => file.split('\\').join('/'))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts') && !file.endsWith('.d.ts'))
    .sort();
}

const graphOf = (edges: Record<string, string[]>): ImportGraph => ({ edges: new Map(Object.entries(edges)) });

describe('the API source tree', () => {
  const graph = importGraph(SRC);

  it('is read whole: every module file, with its imports', () => {
    expect(graph.edges.size).toBeGreaterThan(100);
    expect(graph.edges.get('app.module.ts')).toContain('openai-compat/openai-compat.module.ts');
    // A type-only import counts too.
    expect(graph.edges.get('metrics/metrics.service.ts')).toContain('providers/circuit-breaker.ts');
  });

  it('has no import circle', () => {
    expect(importCircles(graph)).toEqual([]);
  });

  it('imports only down the layers of docs/architecture.md', () => {
    expect(layerViolations(graph, LAYERS)).toEqual([]);
  });

  it('has every unit of the layer table described in docs/architecture.md', () => {
    const doc = readFileSync(new URL('../docs/architecture.md', import.meta.url), 'utf8');
    for (const unit of LAYERS.flat()) expect(doc).toContain(`\`${unit}\``);
  });
});

describe('the checks themselves', () => {
  it('let a provider declaration load only its own folder lazily', () => {
    expect(lazyAdapterLoad('providers/acme/acme.provider.ts', 'providers/acme/acme.adapter.ts')).toBe(true);
    expect(lazyAdapterLoad('providers/acme/acme.provider.ts', 'providers/upstream-http.ts')).toBe(false);
    expect(lazyAdapterLoad('providers/acme/acme.adapter.ts', 'providers/acme/acme.mapping.ts')).toBe(false);
    expect(unitOf('providers/acme/acme.provider.ts')).toBe('provider-declarations');
    expect(unitOf('providers/acme/acme.adapter.ts')).toBe('providers');
  });

  it('find a circle, also through three files, and a file importing itself', () => {
    const circles = importCircles(graphOf({ 'a/x.ts': ['b/y.ts'], 'b/y.ts': ['c/z.ts'], 'c/z.ts': ['a/x.ts'], 'd/w.ts': ['d/w.ts'], 'e/v.ts': ['a/x.ts'] }));
    expect(circles).toEqual([['a/x.ts', 'b/y.ts', 'c/z.ts'], ['d/w.ts']]);
  });

  it('find an upward import, an import within one layer, and a folder in no layer', () => {
    const layers = [['common'], ['storage', 'events'], ['providers']];
    const graph = graphOf({
      'providers/p.ts': ['storage/s.ts', 'common/c.ts', 'providers/q.ts'],
      'storage/s.ts': ['providers/p.ts', 'events/e.ts'],
      'newthing/n.ts': ['common/c.ts'],
    });
    expect(layerViolations(graph, layers)).toEqual([
      'storage/s.ts → providers/p.ts (storage → providers)',
      'storage/s.ts → events/e.ts (storage → events)',
      'newthing/n.ts: unit "newthing" is in no layer',
    ]);
  });
});
