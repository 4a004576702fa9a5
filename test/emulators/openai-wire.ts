import { newCompletionId, splitText } from './answers.ts';
import type { AnswerPlan, Usage } from './answers.ts';
import type { StreamStep } from './sse.ts';

/** The small ways OpenAI-compatible providers differ from OpenAI itself. */
export interface OpenAiDialect {
  /**
   * never: streams carry no usage (Pollinations);
   * finishChunk: the finish chunk carries usage (DeepInfra, Together);
   * whenRequested: a final `choices: []` chunk when stream_options.include_usage (OpenAI).
   */
  streamUsage: 'never' | 'finishChunk' | 'whenRequested';
  usageExtras?: (usage: Usage) => Record<string, unknown>;
  completionExtras?: Record<string, unknown>;
  /** Together sends `"usage": null` on every chunk before the last one. */
  nullUsageOnChunks?: boolean;
}

interface Meta {
  id: string;
  created: number;
  model: string;
}

export function newMeta(model: string): Meta {
  return { id: newCompletionId(), created: Math.floor(Date.now() / 1000), model };
}

export function openAiCompletion(meta: Meta, plan: AnswerPlan, dialect: OpenAiDialect): Record<string, unknown> {
  const message: Record<string, unknown> = { role: 'assistant', content: plan.content };
  if (plan.reasoning !== undefined) message.reasoning_content = plan.reasoning;
  if (plan.toolCall) {
    message.tool_calls = [{ id: plan.toolCall.id, type: 'function', function: { name: plan.toolCall.name, arguments: plan.toolCall.arguments } }];
  }
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: plan.finishReason, ...stopReason(plan) }],
    usage: renderUsage(plan.usage, dialect),
    ...dialect.completionExtras,
  };
}

export function openAiStream(meta: Meta, plan: AnswerPlan, dialect: OpenAiDialect, options: { includeUsage: boolean; chunks: number }): StreamStep[] {
  const separateUsage = dialect.streamUsage === 'whenRequested' && options.includeUsage;
  const nullUsage = dialect.nullUsageOnChunks === true || separateUsage;
  const pending = nullUsage ? { usage: null } : {};
  const steps: StreamStep[] = deltas(plan, options.chunks).map((delta) => ({
    data: JSON.stringify(chunk(meta, [choice(delta, null)], pending)),
    delta: true,
  }));
  const finishExtra = dialect.streamUsage === 'finishChunk' ? { usage: renderUsage(plan.usage, dialect) } : pending;
  steps.push({ data: JSON.stringify(chunk(meta, [{ ...choice({}, plan.finishReason), ...stopReason(plan) }], finishExtra)), delta: false });
  if (separateUsage) {
    steps.push({ data: JSON.stringify(chunk(meta, [], { usage: renderUsage(plan.usage, dialect) })), delta: false });
  }
  steps.push({ data: '[DONE]', delta: false });
  return steps;
}

function deltas(plan: AnswerPlan, chunks: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  if (plan.reasoning !== undefined) {
    for (const piece of splitText(plan.reasoning, 2)) out.push({ reasoning_content: piece });
  }
  if (plan.toolCall) {
    const { id, name, arguments: args } = plan.toolCall;
    out.push({ content: null, tool_calls: [{ index: 0, id, type: 'function', function: { name, arguments: '' } }] });
    for (const piece of splitText(args, 2)) out.push({ tool_calls: [{ index: 0, function: { arguments: piece } }] });
  } else if (plan.content !== null) {
    for (const piece of splitText(plan.content, chunks)) out.push({ content: piece });
  }
  if (out.length > 0) out[0] = { role: 'assistant', ...out[0] };
  return out;
}

/** vLLM's `stop_reason`: the stop sequence that ended the answer (sent only then). */
function stopReason(plan: AnswerPlan): Record<string, unknown> {
  return plan.stopSequence === undefined ? {} : { stop_reason: plan.stopSequence };
}

function choice(delta: Record<string, unknown>, finishReason: string | null): Record<string, unknown> {
  return { index: 0, delta, logprobs: null, finish_reason: finishReason };
}

function chunk(meta: Meta, choices: Record<string, unknown>[], extra: Record<string, unknown>): Record<string, unknown> {
  return { id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, choices, ...extra };
}

function renderUsage(usage: Usage, dialect: OpenAiDialect): Record<string, unknown> {
  return { ...usage, ...dialect.usageExtras?.(usage) };
}
