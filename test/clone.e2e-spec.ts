/**
 * A fresh clone passes its own tests with nothing beside it: the repository's HEAD is cloned into
 * a temp dir (where no `../shared` or other sibling exists), given this checkout's node_modules,
 * and a representative set of suites runs there, chosen from those that once read files outside
 * the repository (the OpenAI spec, the seed catalog), the README and docs checks, and the config's
 * unit suite. Commit-level on purpose: an uncommitted or git-ignored file cannot make it pass.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

/** Suites that read vendor/ (once ../shared), the catalog, the README and docs; none needs the built gateway. */
const SUITES = [
  'test/support/openapi.e2e-spec.ts',
  'test/e2e/models.e2e-spec.ts',
  'test/docs-links.e2e-spec.ts',
  'test/readme.e2e-spec.ts',
  'apps/api/src/config/app-config.spec.ts',
];

/**
 * The clone's own jest.config.js without the e2e project's global set-up: that step only runs
 * `nest build` for the suites that start the gateway as a process, which SUITES leaves out.
 */
const CLONE_CONFIG = `import config from './jest.config.js';
export default { ...config, projects: config.projects.map(({ globalSetup: _build, ...project }) => project) };
`;

interface JestReport {
  success: boolean;
  numFailedTests: number;
  testResults: Array<{ name: string; status: string; assertionResults: Array<{ status: string }> }>;
}

describe('a fresh clone of HEAD', () => {
  let parent: string;
  let clone: string;

  beforeAll(async () => {
    parent = realpathSync(mkdtempSync(join(tmpdir(), 'g4f-clone-')));
    clone = join(parent, 'repo');
    const { stdout: head } = await run('git', ['-C', root, 'rev-parse', 'HEAD']);
    await run('git', ['clone', '--quiet', '--no-checkout', root, clone]);
    await run('git', ['-C', clone, 'checkout', '--quiet', '--detach', head.trim()]);
    symlinkSync(realpathSync(join(root, 'node_modules')), join(clone, 'node_modules'), 'dir');
    writeFileSync(join(clone, 'jest.clone.config.js'), CLONE_CONFIG);
  }, 60_000);

  afterAll(() => {
    if (parent) rmSync(parent, { recursive: true, force: true });
  });

  it('has nothing beside it to read from', () => {
    expect(existsSync(join(clone, '..', 'shared'))).toBe(false);
    expect(existsSync(join(clone, 'dist'))).toBe(false);
  });

  it('extracts the same OpenAI schemas /docs ships from its own vendored spec', async () => {
    const { stdout } = await run(process.execPath, ['scripts/openai-schemas.ts', '--check'], { cwd: clone, timeout: 60_000 });
    expect(stdout).toMatch(/is up to date \(\d+ schemas\)/);
  }, 70_000);

  // About 15 s on an idle 2-core machine (the clone's files are new to Jest's transform cache);
  // the bounds leave room for a machine busy with other suites.
  it('passes the suites that read the vendored spec, the seed catalog, the catalog and the docs', async () => {
    const report = join(parent, 'report.json');
    const jest = ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', 'node_modules/jest/bin/jest.js'];
    const options = ['--config', 'jest.clone.config.js', '--ci', '--no-watchman', '--json', `--outputFile=${report}`, '--runTestsByPath'];
    const env = { ...process.env, JEST_WORKER_ID: undefined, FORCE_COLOR: '0' };
    // A failing suite makes jest exit 1; the report says which, so read it either way.
    await run(process.execPath, [...jest, ...options, ...SUITES], { cwd: clone, env, timeout: 170_000, maxBuffer: 16 * 1024 * 1024 }).catch(() => undefined);
    const result = JSON.parse(readFileSync(report, 'utf8')) as JestReport;
    const failed = result.testResults.filter((r) => r.status !== 'passed').map((r) => r.name);
    expect(failed).toEqual([]);
    // Each suite ran from the clone, and ran tests (a suite with none would prove nothing).
    expect(result.testResults.map((r) => r.name).sort()).toEqual(SUITES.map((s) => join(clone, s)).sort());
    for (const r of result.testResults) expect(r.assertionResults.filter((a) => a.status === 'passed').length).toBeGreaterThan(0);
    expect(result.numFailedTests).toBe(0);
    expect(result.success).toBe(true);
  }, 180_000);
});
