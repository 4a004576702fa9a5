import { splitText } from './answers.ts';
import type { AnswerPlan } from './answers.ts';
import type { StreamStep } from './sse.ts';

/** Workers AI native envelope: `{result, success, errors, messages}`. */
export function cloudflareResult(plan: AnswerPlan): Record<string, unknown> {
  return {
    result: { response: plan.content ?? '', usage: plan.usage },
    success: true,
    errors: [],
    messages: [],
  };
}

export function cloudflareStream(plan: AnswerPlan, chunks: number): StreamStep[] {
  const steps: StreamStep[] = splitText(plan.content ?? '', chunks).map((piece) => ({
    data: JSON.stringify({ response: piece }),
    delta: true,
  }));
  steps.push({ data: JSON.stringify({ response: '', usage: plan.usage }), delta: false });
  steps.push({ data: '[DONE]', delta: false });
  return steps;
}
