import { parseCloudflareEmbeddings, parseCloudflareTranscription } from './cloudflare/cloudflare-embedding-mapping.ts';
import { batches, checkVectors, decodeFloat32Base64, encodeFloat32Base64 } from './embedding-vectors.ts';
import { parseHuggingFaceEmbeddings, parseHuggingFaceTranscription } from './huggingface/huggingface-mapping.ts';
import { buildOpenAIEmbeddingBody, parseOpenAIEmbeddings } from './openai-compatible/openai-embeddings.ts';
import { parseOpenAITranscription } from './openai-compatible/openai-transcriptions.ts';
import { UpstreamError } from './provider-adapter.ts';

const invalid = (fn: () => unknown, message: RegExp) => {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(UpstreamError);
  expect((caught as UpstreamError).kind).toBe('invalid');
  expect((caught as UpstreamError).message).toMatch(message);
};

describe('base64 float32 vectors', () => {
  it('encodes little-endian float32 as OpenAI does and decodes back', () => {
    // 1.0f is 00 00 80 3f little-endian; -2.0f is 00 00 00 c0.
    expect(encodeFloat32Base64([1, -2])).toBe(Buffer.from([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]).toString('base64'));
    expect(decodeFloat32Base64(encodeFloat32Base64([0.5, -0.25, 3]), 'v')).toEqual([0.5, -0.25, 3]);
  });

  it('refuses a string that is not whole float32 values', () => {
    invalid(() => decodeFloat32Base64(Buffer.from([1, 2, 3]).toString('base64'), 'data[0].embedding'), /data\[0\]\.embedding is not base64 float32/);
    invalid(() => decodeFloat32Base64('', 'v'), /not base64/);
  });
});

describe('batches and checks', () => {
  it('splits in order to the limit', () => {
    expect(batches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(batches([1, 2], 100)).toEqual([[1, 2]]);
    expect(batches([], 3)).toEqual([]);
  });

  it('fails on a wrong count or length', () => {
    expect(() => checkVectors([[1, 2]], 1, 2)).not.toThrow();
    invalid(() => checkVectors([[1, 2]], 2, 2), /1 vectors for 2 inputs/);
    invalid(() => checkVectors([[1, 2], [1]], 2, 2), /embedding 1 has 1 dimensions, expected 2/);
  });
});

describe('OpenAI-shaped embeddings (DeepInfra, custom upstreams)', () => {
  it('asks for floats and passes dimensions and user', () => {
    expect(buildOpenAIEmbeddingBody({ input: ['a'], dimensions: 64, user: 'u' }, 'BAAI/bge-m3')).toEqual({
      model: 'BAAI/bge-m3',
      input: ['a'],
      encoding_format: 'float',
      dimensions: 64,
      user: 'u',
    });
  });

  it('orders by index, decodes base64, reads usage', () => {
    const json = {
      object: 'list',
      data: [
        { object: 'embedding', index: 1, embedding: encodeFloat32Base64([0.5, 0.25]) },
        { object: 'embedding', index: 0, embedding: [1, 2] },
      ],
      usage: { prompt_tokens: 7, total_tokens: 7, estimated_cost: 0.0001 },
    };
    expect(parseOpenAIEmbeddings(json)).toEqual({
      vectors: [
        [1, 2],
        [0.5, 0.25],
      ],
      promptTokens: 7,
    });
  });

  it('fails on an error in a 200, a missing index, a value that is not a number', () => {
    invalid(() => parseOpenAIEmbeddings({ error: { message: 'model is loading' } }), /model is loading/);
    invalid(() => parseOpenAIEmbeddings({ data: [{ index: 1, embedding: [1] }] }), /missing or repeated/);
    invalid(() => parseOpenAIEmbeddings({ data: [{ index: 0, embedding: [1, 'x'] }] }), /not a finite number/);
    invalid(() => parseOpenAIEmbeddings({ object: 'list' }), /no data array/);
  });
});

describe('HuggingFace feature extraction', () => {
  it('reads a list of vectors, and a flat vector for one input', () => {
    expect(
      parseHuggingFaceEmbeddings(
        [
          [1, 2],
          [3, 4],
        ],
        2,
      ),
    ).toEqual({
      vectors: [
        [1, 2],
        [3, 4],
      ],
    });
    expect(parseHuggingFaceEmbeddings([1, 2, 3], 1)).toEqual({ vectors: [[1, 2, 3]] });
  });

  it('fails on token-level output and on the router’s errors', () => {
    invalid(
      () =>
        parseHuggingFaceEmbeddings(
          [
            [
              [1, 2],
              [3, 4],
            ],
          ],
          1,
        ),
      /vector 0 holds a value that is not a finite number/,
    );
    invalid(() => parseHuggingFaceEmbeddings({ error: 'Model BAAI/bge-m3 is currently loading' }, 1), /currently loading/);
    invalid(() => parseHuggingFaceEmbeddings([], 1), /not a list of vectors/);
  });

  it('reads {text} from speech recognition', () => {
    expect(parseHuggingFaceTranscription({ text: 'hello' })).toEqual({ text: 'hello' });
    invalid(() => parseHuggingFaceTranscription({ chunks: [] }), /no text/);
  });
});

describe('Cloudflare Workers AI', () => {
  it('reads {result:{shape,data}}', () => {
    const json = {
      result: {
        shape: [2, 2],
        data: [
          [1, 2],
          [3, 4],
        ],
        pooling: 'mean',
      },
      success: true,
      errors: [],
      messages: [],
    };
    expect(parseCloudflareEmbeddings(json)).toEqual({
      vectors: [
        [1, 2],
        [3, 4],
      ],
    });
  });

  it('fails on a shape that disagrees, and on success: false', () => {
    invalid(
      () =>
        parseCloudflareEmbeddings({
          result: {
            shape: [2, 3],
            data: [
              [1, 2],
              [3, 4],
            ],
          },
        }),
      /shape/,
    );
    invalid(() => parseCloudflareEmbeddings({ success: false, errors: [{ code: 5006, message: 'AiError: Bad input' }], result: null }), /Bad input/);
  });

  it('reads whisper’s text, language, duration and segments', () => {
    const json = {
      result: {
        text: 'hello world',
        transcription_info: { language: 'en', duration: 1.5 },
        segments: [{ start: 0, end: 1.5, text: 'hello world', avg_logprob: -0.1 }, { start: 'x' }],
        vtt: 'WEBVTT',
      },
      success: true,
    };
    expect(parseCloudflareTranscription(json)).toEqual({
      text: 'hello world',
      language: 'en',
      duration: 1.5,
      segments: [{ start: 0, end: 1.5, text: 'hello world' }],
    });
  });
});

describe('OpenAI-shaped transcriptions', () => {
  it('reads verbose_json and plain json', () => {
    expect(parseOpenAITranscription({ text: 'hi' })).toEqual({ text: 'hi' });
    expect(
      parseOpenAITranscription({ task: 'transcribe', language: 'en', duration: 2, text: 'hi', segments: [{ id: 0, start: 0, end: 2, text: 'hi' }] }),
    ).toEqual({
      text: 'hi',
      language: 'en',
      duration: 2,
      segments: [{ start: 0, end: 2, text: 'hi' }],
    });
    invalid(() => parseOpenAITranscription({ detail: [] }), /no text/);
  });
});
