import { splitText } from './answers.ts';
import type { AnswerPlan } from './answers.ts';
import type { StreamStep } from './sse.ts';
import { isRecord } from './types.ts';

/**
 * Models whose Workers AI page documents function calling (traditional tools), as the gateway's
 * Cloudflare mapping has them: the emulator refuses `tools` for any other model, so a request
 * routed where its tools would be dropped shows up as a failure instead of a plain-text answer.
 */
export const CLOUDFLARE_TOOL_MODELS: ReadonlySet<string> = new Set([
  '@cf/meta/llama-3.3-70b-instruct-fp8-fast',
  '@cf/meta/llama-4-scout-17b-16e-instruct',
  '@hf/nousresearch/hermes-2-pro-mistral-7b',
]);

/** Models whose text-generation schema lists `response_format` (JSON mode). */
export const CLOUDFLARE_JSON_MODELS: ReadonlySet<string> = new Set(['@cf/meta/llama-3.3-70b-instruct-fp8-fast', '@cf/meta/llama-3.1-8b-instruct']);

/** Workers AI validates the body against the model's schema: what it would reject, in its words. */
export function cloudflareSchemaError(model: string, body: Record<string, unknown>): string | undefined {
  if (body.stop !== undefined) return `Type mismatch of '/stop', 'stop' not in schema`;
  if (body.tools !== undefined && !CLOUDFLARE_TOOL_MODELS.has(model)) return `Type mismatch of '/tools', 'tools' not in schema of ${model}`;
  if (Array.isArray(body.tools) && !body.tools.every((t) => isRecord(t) && typeof t.name === 'string' && !('function' in t))) {
    return `Type mismatch of '/tools', expected [{name, description, parameters}]`;
  }
  if (body.response_format !== undefined && !CLOUDFLARE_JSON_MODELS.has(model))
    return `Type mismatch of '/response_format', 'response_format' not in schema of ${model}`;
  if (body.tool_choice !== undefined) return `Type mismatch of '/tool_choice', 'tool_choice' not in schema`;
  return undefined;
}

/** Native `{name, parameters}` tools in OpenAI's shape, so the shared answer planner can choose one. */
export function asOpenAiTools(body: Record<string, unknown>): Record<string, unknown> {
  if (!Array.isArray(body.tools)) return body;
  return { ...body, tools: body.tools.map((t) => (isRecord(t) ? { type: 'function', function: t } : t)) };
}

/** JSON mode answers with the object itself as `response`, not its text. */
function responseOf(plan: AnswerPlan, jsonMode: boolean): unknown {
  if (plan.toolCall) return null;
  return jsonMode ? { answer: plan.content ?? '' } : (plan.content ?? '');
}

/**
 * Workers AI native envelope: `{result, success, errors, messages}`. A tool call is
 * `tool_calls: [{name, arguments: {…}}]`, the arguments an object and no id, as documented.
 */
export function cloudflareResult(plan: AnswerPlan, jsonMode = false): Record<string, unknown> {
  const result: Record<string, unknown> = { response: responseOf(plan, jsonMode), usage: plan.usage };
  if (plan.toolCall) result.tool_calls = [{ name: plan.toolCall.name, arguments: JSON.parse(plan.toolCall.arguments) as unknown }];
  return { result, success: true, errors: [], messages: [] };
}

/** The native stream: text only (tool calls in a stream are undocumented, so this one has none). */
export function cloudflareStream(plan: AnswerPlan, chunks: number): StreamStep[] {
  const steps: StreamStep[] = splitText(plan.content ?? '', chunks).map((piece) => ({
    data: JSON.stringify({ response: piece }),
    delta: true,
  }));
  steps.push({ data: JSON.stringify({ response: '', usage: plan.usage }), delta: false });
  steps.push({ data: '[DONE]', delta: false });
  return steps;
}
