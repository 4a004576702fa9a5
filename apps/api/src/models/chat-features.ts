import type { ChatMessage } from '#contracts';
import type { ChatFeature, ChatRequest, ProviderAdapter } from '../providers/provider-adapter.ts';

/** How a feature is named to the client: the request field it comes from, in words, and the error code. */
export interface FeatureInfo {
  param: string;
  words: string;
  code: string;
}

export const FEATURES: Readonly<Record<ChatFeature, FeatureInfo>> = {
  tools: { param: 'tools', words: 'tool calling (`tools`)', code: 'tools_not_supported' },
  tool_choice: { param: 'tool_choice', words: 'a required or named `tool_choice`', code: 'tool_choice_not_supported' },
  json_object: { param: 'response_format', words: 'JSON mode (`response_format` json_object)', code: 'response_format_not_supported' },
  json_schema: { param: 'response_format', words: 'structured output (`response_format` json_schema)', code: 'response_format_not_supported' },
  stop: { param: 'stop', words: 'stop sequences (`stop`)', code: 'stop_not_supported' },
  reasoning: { param: 'reasoning_effort', words: 'reasoning (`reasoning_effort`)', code: 'reasoning_not_supported' },
};

/** The skip reason of a route that cannot honour a feature the request needs. */
export const cannotHonour = (feature: ChatFeature): string => `cannot honour ${FEATURES[feature].param}`;

const nonEmpty = (v: unknown): boolean => (typeof v === 'string' ? v !== '' : Array.isArray(v) && v.length > 0);

/** A conversation that already holds tool calls or results needs a mapping that can carry them. */
const carriesToolTurns = (messages: readonly ChatMessage[]): boolean =>
  messages.some((m) => m?.role === 'tool' || (m?.role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length > 0));

/** What a chat request needs of a route beyond plain text (vision is decided apart, see vision.ts). */
export function requiredFeatures(req: Pick<ChatRequest, 'params' | 'messages'>): ChatFeature[] {
  const p = req.params;
  const features: ChatFeature[] = [];
  const tools = Array.isArray(p.tools) && p.tools.length > 0;
  if (tools || carriesToolTurns(req.messages)) features.push('tools');
  // `auto` is any mapping's default and `none` can be met by sending no tools; forcing a call is not.
  if (tools && (p.tool_choice === 'required' || (typeof p.tool_choice === 'object' && p.tool_choice !== null))) features.push('tool_choice');
  const format = (p.response_format as { type?: unknown } | undefined)?.type;
  if (format === 'json_object' || format === 'json_schema') features.push(format);
  if (nonEmpty(p.stop)) features.push('stop');
  if (typeof p.reasoning_effort === 'string' && p.reasoning_effort !== 'none') features.push('reasoning');
  return features;
}

/** Whether a route's mapping carries `feature`: an adapter without `honours` passes every field through. */
export function routeHonours(adapter: Pick<ProviderAdapter, 'honours'> | undefined, upstreamModel: string, feature: ChatFeature): boolean {
  return adapter?.honours?.(feature, upstreamModel) ?? true;
}
