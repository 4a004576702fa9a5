import { model, provider } from '../../../testing/fixtures';
import type { ApiFailure } from '../../core/api-error';
import { MATRIX_MAX, MAX_SHOWN_VECTORS, PREVIEW_VALUES, cosine, similarityShade, splitInputs, summarizeEmbeddings } from './embeddings-view';
import { initialTabModel, tabError, tabModels, tabOf } from './tab-view';
import { fileProblem, formatBytes, formatTimestamp, parseTranscript, uploadFailureMessage } from './transcription-view';

const failure = (status: number, extra: Partial<ApiFailure> = {}): ApiFailure => ({
  kind: status >= 500 ? 'server' : 'request',
  status,
  message: `HTTP ${status}`,
  detail: null,
  code: null,
  retryAfter: null,
  ...extra,
});

describe('the playground tabs', () => {
  it('?tab= names a tab; anything else is 对话与图像', () => {
    expect(tabOf('embeddings')).toBe('embeddings');
    expect(tabOf('transcription')).toBe('transcription');
    expect(tabOf(null)).toBe('chat');
    expect(tabOf('constructor')).toBe('chat');
  });

  it('lists one category’s models, servable first, and starts with the remembered one while it exists', () => {
    const bge = { ...model('bge-m3', [['CloudflareAI']], 'embedding'), dimensions: 1024 };
    const catalog = [
      model('llama', [['DeepInfra']]),
      bge,
      model('bge-base-en-v1.5', [['DeepInfra']], 'embedding'),
      model('whisper', [['DeepInfra']], 'speech-to-text'),
    ];
    const options = tabModels(catalog, [provider('DeepInfra'), provider('CloudflareAI', 'cooling-down')], 'embedding');
    expect(options.map((o) => [o.id, o.servable, o.dimensions])).toEqual([
      ['bge-base-en-v1.5', true, null],
      ['bge-m3', false, 1024],
    ]);
    expect(initialTabModel(options, 'bge-m3')).toBe('bge-m3');
    expect(initialTabModel(options, 'gone')).toBe('bge-base-en-v1.5');
    expect(initialTabModel([], null)).toBeNull();
  });

  it('says in Chinese when every provider failed, and keeps the API’s own words for a 400', () => {
    const attempts = [{ provider: 'DeepInfra' }, { provider: 'HuggingFace' }] as never[];
    expect(tabError(failure(502), attempts)).toMatchObject({ message: '所有提供商都失败了（HTTP 502），尝试了 2 次。', attempts });
    expect(tabError(failure(504), attempts).message).toBe('所有提供商都超时了（HTTP 504），尝试了 2 次。');
    expect(tabError(failure(400, { detail: 'dimensions: not supported' }))).toMatchObject({
      message: '请求参数有误（HTTP 400），见下方说明。',
      detail: 'dimensions: not supported',
    });
    expect(tabError(failure(500)).message).toBe('HTTP 500');
  });
});

describe('嵌入: inputs and vectors', () => {
  it('takes one input per non-empty line', () => {
    expect(splitInputs('  a \r\n\n b\n   \n')).toEqual(['a', 'b']);
    expect(splitInputs('')).toEqual([]);
  });

  it('cosine similarity: 1 for the same direction, 0 for orthogonal or a zero vector, -1 for opposite', () => {
    expect(cosine([1, 2, 3], [2, 4, 6])).toBeCloseTo(1);
    expect(cosine([1, 0], [0, 5])).toBe(0);
    expect(cosine([0, 0], [1, 1])).toBe(0);
    expect(cosine([1, -1], [-1, 1])).toBeCloseTo(-1);
    expect(similarityShade(-0.5)).toBe(0);
    expect(similarityShade(0.834)).toBe(0.83);
  });

  const answer = (vectors: number[][]) => ({ data: vectors.map((embedding, index) => ({ index, embedding })).reverse(), usage: { prompt_tokens: 7 } });

  it('two inputs: the dimension, usage, previews in index order and their similarity', () => {
    const s = summarizeEmbeddings(
      ['甲', '乙'],
      answer([
        [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
        [-0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1],
      ]),
    );
    expect(s).toMatchObject({ count: 2, dimensions: 8, promptTokens: 7, hidden: 0, matrix: null });
    expect(s.pair).toBeCloseTo(cosine([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], [-0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]));
    expect(s.vectors[0]).toMatchObject({ index: 0, input: '甲', dimensions: 8, similarityToFirst: null });
    expect(s.vectors[0]!.preview).toEqual(['0.1000', '0.2000', '0.3000', '0.4000', '0.5000', '0.6000']);
    expect(s.vectors[1]!.preview[0]).toBe('-0.8000');
    expect(s.vectors[0]!.preview).toHaveLength(PREVIEW_VALUES);
  });

  it('three to eight inputs: a full matrix; more: each compared with the first, and only the first vectors shown', () => {
    const unit = (i: number) => [Math.cos(i), Math.sin(i)];
    const three = summarizeEmbeddings(['a', 'b', 'c'], answer([unit(0), unit(1), unit(2)]));
    expect(three.pair).toBeNull();
    expect(three.matrix).toHaveLength(3);
    expect(three.matrix![0]![0]).toBeCloseTo(1);
    expect(three.matrix![0]![2]).toBeCloseTo(Math.cos(2));

    const n = MAX_SHOWN_VECTORS + 5;
    const many = summarizeEmbeddings(
      Array.from({ length: n }, (_, i) => `text ${i}`),
      answer(Array.from({ length: n }, (_, i) => unit(i))),
    );
    expect(n).toBeGreaterThan(MATRIX_MAX);
    expect(many).toMatchObject({ count: n, matrix: null, pair: null, hidden: 5 });
    expect(many.vectors).toHaveLength(MAX_SHOWN_VECTORS);
    expect(many.vectors[0]!.similarityToFirst).toBeNull();
    expect(many.vectors[3]!.similarityToFirst).toBeCloseTo(Math.cos(3));
  });

  it('a long input is shortened beside its vector; vectors of different lengths have no single dimension', () => {
    const s = summarizeEmbeddings(['x'.repeat(500), 'y'], {
      data: [
        { index: 0, embedding: [1, 0] },
        { index: 1, embedding: [1] },
      ],
    });
    expect(s.vectors[0]!.input).toHaveLength(121);
    expect(s.dimensions).toBeNull();
    expect(s.promptTokens).toBeNull();
  });
});

describe('语音识别: files and transcripts', () => {
  it('sizes in B, KB and MB', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(320 * 1024)).toBe('320 KB');
    expect(formatBytes(1.5 * 1024 * 1024)).toBe('1.5 MB');
    expect(formatBytes(25 * 1024 * 1024)).toBe('25 MB');
  });

  it('refuses an empty file and one over the server’s limit, naming TRANSCRIPTION_MAX_BYTES', () => {
    expect(fileProblem({ size: 0 }, null)).toBe('文件是空的。');
    expect(fileProblem({ size: 30 * 1024 * 1024 }, 25 * 1024 * 1024)).toBe('文件有 30 MB，超过了服务器的上限 25 MB（TRANSCRIPTION_MAX_BYTES）。');
    expect(fileProblem({ size: 30 * 1024 * 1024 }, null)).toBeNull();
    expect(fileProblem({ size: 1024 }, 25 * 1024 * 1024)).toBeNull();
  });

  it('reads json and verbose_json answers; srt, vtt and text are shown as they came', () => {
    expect(parseTranscript('{"text":"你好"}', 'json')).toEqual({ text: '你好', segments: [], hiddenSegments: 0, language: null, duration: null });
    const verbose = parseTranscript(
      JSON.stringify({
        text: 'a b',
        language: 'chinese',
        duration: 2.5,
        segments: [{ start: 0, end: 1.2, text: ' a ' }, null, { start: 1.2, end: 2.5, text: 'b' }],
      }),
      'verbose_json',
    );
    expect(verbose).toMatchObject({ text: 'a b', language: 'chinese', duration: 2.5 });
    expect(verbose.segments).toEqual([
      { start: 0, end: 1.2, text: 'a' },
      { start: 1.2, end: 2.5, text: 'b' },
    ]);
    const vtt = 'WEBVTT\n\n00:00.000 --> 00:01.000\nhello\n';
    expect(parseTranscript(vtt, 'vtt').text).toBe(vtt);
    expect(parseTranscript('not json', 'json').text).toBe('not json');
  });

  it('timestamps as m:ss.cc (h:mm:ss.cc past an hour)', () => {
    expect(formatTimestamp(3.2)).toBe('0:03.20');
    expect(formatTimestamp(62.5)).toBe('1:02.50');
    expect(formatTimestamp(3723)).toBe('1:02:03.00');
  });

  it('a 413 names the limit; a connection dropped under a large upload may be the same limit', () => {
    expect(uploadFailureMessage(failure(413), 10, 64 * 1024)).toBe('文件太大（HTTP 413）：超过了服务器的上限 64 KB（TRANSCRIPTION_MAX_BYTES）。');
    expect(uploadFailureMessage(failure(413), 10, null)).toBe('文件太大（HTTP 413）：超过了服务器的上限（TRANSCRIPTION_MAX_BYTES）。');
    expect(uploadFailureMessage(failure(0), 5 * 1024 * 1024, null)).toMatch(/^上传中断/);
    expect(uploadFailureMessage(failure(0), 1000, null)).toBeNull();
    expect(uploadFailureMessage(failure(502), 5 * 1024 * 1024, null)).toBeNull();
  });
});
