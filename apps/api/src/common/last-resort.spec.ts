import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe as describeError } from './last-resort.ts';

const lastResort = fileURLToPath(new URL('./last-resort.ts', import.meta.url));

/** Runs `body` in a fresh Node process after installLastResort(); returns its exit code and output. */
function runInstalled(body: string, install = true): { status: number | null; output: string } {
  const script = `
    import { Subject } from 'rxjs';
    import { installLastResort } from ${JSON.stringify(lastResort)};
    if (${install}) installLastResort();
    ${body}
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '--no-warnings', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('installLastResort', () => {
  it('logs an uncaught exception, an unhandled rejection and a throwing RxJS subscriber, and keeps running', () => {
    const { status, output } = runInstalled(`
      setTimeout(() => { throw new TypeError("Cannot read properties of null (reading 'function')"); });
      void Promise.reject(new Error('nobody awaited this'));
      const subject = new Subject();
      subject.subscribe(() => { throw new RangeError('Invalid string length'); });
      subject.next(1);
      setTimeout(() => { console.log('still serving'); process.exit(0); }, 200);
    `);
    expect(output).toContain("Uncaught exception, the gateway keeps serving: TypeError: Cannot read properties of null (reading 'function')");
    expect(output).toContain('Unhandled promise rejection, the gateway keeps serving: Error: nobody awaited this');
    expect(output).toContain('Unhandled error in an RxJS subscriber, the gateway keeps serving: RangeError: Invalid string length');
    expect(output).toContain('still serving');
    expect(status).toBe(0);
  });

  it('bounds each line and how many are logged per minute', () => {
    const { status, output } = runInstalled(`
      for (let i = 0; i < 50; i++) setTimeout(() => { throw new Error('x'.repeat(1_000_000)); });
      setTimeout(() => process.exit(0), 300);
    `);
    expect(status).toBe(0);
    expect(output.length).toBeLessThan(30_000);
    expect(output.match(/Uncaught exception/g)).toHaveLength(10);
  });

  it('is what keeps the process up: without it, the same throw ends it', () => {
    const { status } = runInstalled(`setTimeout(() => { throw new Error('boom'); }); setTimeout(() => process.exit(0), 300);`, false);
    expect(status).not.toBe(0);
  });
});

describe('describe', () => {
  it('puts a stack on one line and cuts it at 2,000 characters', () => {
    const text = describeError(new Error('a\nb'.repeat(5_000)));
    expect(text).not.toContain('\n');
    expect(text.length).toBeLessThan(2_100);
    expect(describeError('plain')).toBe('plain');
    expect(describeError(null)).toBe('null');
  });
});
