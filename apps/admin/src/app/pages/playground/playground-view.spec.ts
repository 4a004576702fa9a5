import type { AdminModel } from '#contracts';
import { model, provider } from '../../../testing/fixtures';
import { type AnswerTurn, type Turn, answerDetail, attemptLine, chatMessages, initialModel, modeOf, modelGroups, providerOptions } from './playground-view';

const MODELS: AdminModel[] = [
  model('llama-3.3-70b', [['DeepInfra'], ['Together']]),
  model('gpt-4o-mini', [['PollinationsAI']]),
  model('qwq-32b', [['HuggingFace']], 'reasoning'),
  model('flux', [['PollinationsAI'], ['Together', false]], 'image'),
  model('gpt-4o-mini-tts', [['PollinationsAI']], 'audio'),
  { ...model('mistral-7b', [['CloudflareAI']]), label: 'Mistral 7B Instruct', owned_by: 'Mistral AI' },
];
const PROVIDERS = [
  provider('DeepInfra'),
  provider('Together'),
  provider('PollinationsAI', 'cooling-down'),
  provider('HuggingFace'),
  provider('CloudflareAI', 'disabled'),
];

function answer(extra: Partial<AnswerTurn> = {}): AnswerTurn {
  return {
    kind: 'answer',
    id: 2,
    replyTo: 1,
    mode: 'chat',
    model: 'llama-3.3-70b',
    pinned: null,
    status: 'done',
    content: 'Hi',
    reasoning: '',
    images: [],
    revisedPrompt: null,
    provider: 'DeepInfra',
    upstreamModel: 'meta-llama/Llama-3.3-70B-Instruct',
    requestId: 'req_1',
    startedAt: 0,
    ttftMs: 420,
    totalMs: 1830,
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    finishReason: 'stop',
    attempts: null,
    error: null,
    ...extra,
  };
}

describe('playground view', () => {
  it('chat-capable models chat, image models draw, audio models are not offered', () => {
    expect(MODELS.map(modeOf)).toEqual(['chat', 'chat', 'chat', 'image', null, 'chat']);
  });

  it('groups models by category (audio left out), servable ones first, and searches id, name and maker', () => {
    const groups = modelGroups(MODELS, PROVIDERS);
    expect(groups.map((g) => [g.label, g.models.map((m) => m.id)])).toEqual([
      ['对话', ['llama-3.3-70b', 'gpt-4o-mini', 'mistral-7b']],
      ['推理', ['qwq-32b']],
      ['图像生成', ['flux']],
    ]);
    // PollinationsAI is cooling down and CloudflareAI disabled: not servable now.
    expect(groups[0]!.models.map((m) => m.servable)).toEqual([true, false, false]);
    expect(groups[0]!.models[0]!.providers).toBe('DeepInfra · Together');
    expect(modelGroups(MODELS, PROVIDERS, 'MISTRAL ai').flatMap((g) => g.models.map((m) => m.id))).toEqual(['mistral-7b']);
    expect(modelGroups(MODELS, PROVIDERS, 'instruct').flatMap((g) => g.models.map((m) => m.id))).toEqual(['mistral-7b']);
    expect(modelGroups(MODELS, PROVIDERS, 'nothing-like-this')).toEqual([]);
  });

  it('starts with the remembered model, else a well-known servable chat model, else any servable one', () => {
    expect(initialModel(MODELS, PROVIDERS, 'qwq-32b')).toBe('qwq-32b');
    expect(initialModel(MODELS, PROVIDERS, 'gone-model')).toBe('llama-3.3-70b');
    expect(initialModel(MODELS, [provider('PollinationsAI')], null)).toBe('gpt-4o-mini');
    expect(initialModel(MODELS, [], null)).toBe('llama-3.3-70b');
    expect(initialModel([], PROVIDERS, null)).toBeNull();
  });

  it("offers the model's providers, saying which can serve now", () => {
    const flux = MODELS.find((m) => m.id === 'flux')!;
    expect(providerOptions(flux, PROVIDERS)).toEqual([
      { name: 'PollinationsAI', note: '冷却中', ready: false },
      { name: 'Together', note: '模型列表中没有', ready: false },
    ]);
    expect(providerOptions(MODELS[0]!, PROVIDERS).map((p) => [p.name, p.note, p.ready])).toEqual([
      ['DeepInfra', '可用', true],
      ['Together', '可用', true],
    ]);
    expect(providerOptions(null, PROVIDERS)).toEqual([]);
  });

  it('sends the system prompt and the answered chat exchanges, skipping failed and image turns', () => {
    const turns: Turn[] = [
      { kind: 'user', id: 1, text: 'Q1', mode: 'chat' },
      answer({ id: 2, replyTo: 1, content: 'A1' }),
      { kind: 'user', id: 3, text: 'Q2', mode: 'chat' },
      answer({ id: 4, replyTo: 3, content: '', status: 'error' }),
      { kind: 'user', id: 5, text: 'a cat', mode: 'image' },
      answer({ id: 6, replyTo: 5, mode: 'image', content: '', images: ['data:image/png;base64,x'] }),
      { kind: 'user', id: 7, text: 'Q3', mode: 'chat' },
      answer({ id: 8, replyTo: 7, content: 'A3 partial', status: 'stopped' }),
    ];
    expect(chatMessages('  Be brief. ', turns, 'Q4')).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Q1' },
      { role: 'assistant', content: 'A1' },
      { role: 'user', content: 'Q3' },
      { role: 'assistant', content: 'A3 partial' },
      { role: 'user', content: 'Q4' },
    ]);
    expect(chatMessages('', [], 'hi')).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('describes a finished answer: provider, first token, total, tokens, and failover when there was some', () => {
    const d = answerDetail(
      answer({
        attempts: [
          { provider: 'Together', upstream_model: 'x', status: 500, reason: 'upstream error', latency_ms: 80 },
          { provider: 'DeepInfra', upstream_model: 'y', status: 200, reason: 'ok', latency_ms: 400 },
        ],
      }),
    );
    expect(d.items).toEqual([
      { label: '提供商', value: 'DeepInfra', testId: 'answer-provider', hint: '上游模型：meta-llama/Llama-3.3-70B-Instruct' },
      { label: '首字', value: '420 ms', testId: 'answer-ttft' },
      { label: '总耗时', value: '1.83 s', testId: 'answer-total' },
      { label: 'Token', value: '10 + 5 = 15', testId: 'answer-tokens', hint: '输入 10 · 输出 5 · 合计 15' },
    ]);
    expect(d.note).toBeNull();
    expect(d.attempts).toHaveLength(2);
    expect(attemptLine(d.attempts[0]!)).toBe('Together · 上游服务器错误（HTTP 500） · upstream error · 80 ms');
    expect(attemptLine({ provider: 'X', upstream_model: 'm', status: null, reason: 'timeout', latency_ms: 1500 })).toBe(
      'X · 上游超时：在限定时间内没有回应 · timeout · 1.50 s',
    );
  });

  it('says when an answer was stopped, cut by the length limit, or pinned to a provider', () => {
    expect(answerDetail(answer({ status: 'stopped', usage: null, finishReason: null })).note).toBe('已停止生成');
    expect(answerDetail(answer({ finishReason: 'length' })).note).toBe('已达到最大输出长度，回答被截断');
    const pinned = answerDetail(answer({ pinned: 'DeepInfra', upstreamModel: 'llama-3.3-70b', attempts: [] }));
    expect(pinned.items[0]).toEqual({ label: '指定提供商', value: 'DeepInfra', testId: 'answer-provider' });
    expect(pinned.attempts).toEqual([]);
    // A failure shows its attempts in the error box, not again as failover.
    const tries = [
      { provider: 'A', upstream_model: 'a', status: 500, reason: 'x', latency_ms: 1 },
      { provider: 'B', upstream_model: 'b', status: 500, reason: 'x', latency_ms: 1 },
    ];
    expect(answerDetail(answer({ status: 'error', attempts: tries, error: { message: 'm', detail: null, code: null, kind: 'server' } })).attempts).toEqual([]);
    const image = answerDetail(answer({ mode: 'image', ttftMs: 10, usage: null }));
    expect(image.items.map((i) => i.testId)).toEqual(['answer-provider', 'answer-total']);
  });
});
