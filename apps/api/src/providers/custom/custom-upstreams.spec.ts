import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCustomUpstreams, parseSamplingParams } from './custom-upstreams.ts';

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'g4f-upstreams-')), 'providers.yaml');
  writeFileSync(path, text);
  return path;
}

const errorOf = (path: string): string => {
  try {
    loadCustomUpstreams(path, []);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('loadCustomUpstreams errors', () => {
  it('do not quote a key from a file that is not valid YAML', () => {
    const message = errorOf(file('upstreams:\n  - name: Lab\n    apiKey: sk-lab-Zx9Cv8Bn7Mm6Ll5K\n  baseUrl: [unclosed\n'));
    expect(message).toContain('cannot read');
    expect(message).not.toContain('Zx9Cv8Bn7Mm6Ll5K');
  });

  it('refuse a model entry that is not an id, naming where it is (never an id like "[object Object]")', () => {
    const upstream = (models: string) => file(`upstreams:\n  - name: Lab\n    baseUrl: http://127.0.0.1:8000/v1\n    models: ${models}\n`);
    expect(errorOf(upstream('[{id: my-llama, upstream: llama3.2}]'))).toMatch(/upstreams\[0\]\.models\[0\]: expected a model id .*got object/);
    expect(errorOf(upstream('[llama3.2, 7]'))).toMatch(/upstreams\[0\]\.models\[1\]: expected a model id .*quote it.*got number/);
    expect(errorOf(upstream('{my-llama: {id: x}}'))).toMatch(/upstreams\[0\]\.models\.my-llama: expected a model id .*got object/);
    expect(errorOf(upstream('{my-llama: "  "}'))).toContain('upstreams[0].models.my-llama: expected a model id');
    expect(errorOf(upstream(`{${'x'.repeat(5000)}: [a]}`))).toContain(`upstreams[0].models.${'x'.repeat(40)}: expected a model id`);
    expect(errorOf(upstream(`{${'x'.repeat(5000)}: [a]}`)).length).toBeLessThan(600);
    expect(errorOf(upstream('[]'))).toContain('upstreams[0].models: list at least one model');
    // Empty values map an id to itself; ids and upstream ids are trimmed.
    expect(loadCustomUpstreams(upstream('{" my-llama ": " llama3.2 ", qwen2.5-7b: }'), [])[0]!.models).toEqual({
      'my-llama': 'llama3.2',
      'qwen2.5-7b': 'qwen2.5-7b',
    });
    expect(loadCustomUpstreams(upstream('[a, b]'), [])[0]!.models).toEqual({ a: 'a', b: 'b' });
  });

  it('mask the credentials of a base URL they reject', () => {
    const message = errorOf(file('upstreams:\n  - name: Lab\n    baseUrl: "http://lab:s3cret-pass@ho st/v1"\n    models: [a]\n'));
    expect(message).toContain('"http://lab:****@ho st/v1" is not a URL');
    expect(message).not.toContain('s3cret');
  });
});

describe('samplingParams of an upstream', () => {
  const upstream = (extra: string) => file(`upstreams:\n  - name: Lab\n    baseUrl: http://127.0.0.1:8000/v1\n    models: [a]\n${extra}`);

  it('are read from a list or a comma-separated string, duplicates dropped; none when absent', () => {
    expect(loadCustomUpstreams(upstream('    samplingParams: [top_k, min_p, top_k]\n'), [])[0]!.samplingParams).toEqual(['top_k', 'min_p']);
    expect(loadCustomUpstreams(upstream('    sampling_params: "top_k, repetition_penalty"\n'), [])[0]!.samplingParams).toEqual(['top_k', 'repetition_penalty']);
    expect(loadCustomUpstreams(upstream(''), [])[0]!.samplingParams).toEqual([]);
  });

  it('refuse a name the gateway does not know, naming it and the field', () => {
    const message = errorOf(upstream('    samplingParams: [top_k, topk]\n'));
    expect(message).toContain('upstreams[0].samplingParams');
    expect(message).toContain('"topk" is not a sampling field');
    expect(errorOf(upstream('    samplingParams: {top_k: 1}\n'))).toContain('expected a list of top_k, min_p');
  });

  it('quote at most 40 characters of a bad value, and name the type of one that is not a string', () => {
    const long = parseSamplingParams(['x'.repeat(5000)]);
    expect('problem' in long && long.problem.length).toBeLessThan(300);
    expect(parseSamplingParams([7])).toEqual({ problem: expect.stringContaining('number is not a sampling field') });
    expect(parseSamplingParams(null)).toEqual({ params: [] });
  });
});
