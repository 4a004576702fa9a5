import { OpenAICompatibleAdapter } from '../openai-compatible/openai-compatible.adapter.ts';

/** Together AI: OpenAI format; its model list is a bare array, which parseModelList accepts. */
export const togetherAdapter = () =>
  new OpenAICompatibleAdapter({
    id: 'together',
    name: 'Together',
    defaultBaseUrl: 'https://api.together.xyz/v1',
    requiresKey: true,
  });
