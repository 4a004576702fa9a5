import { OpenAICompatibleAdapter } from '../openai-compatible/openai-compatible.adapter.ts';

/** gen.pollinations.ai: OpenAI format; a key is optional (anonymous tier). */
export const pollinationsAdapter = () =>
  new OpenAICompatibleAdapter({
    id: 'pollinations',
    name: 'PollinationsAI',
    defaultBaseUrl: 'https://gen.pollinations.ai',
    requiresKey: false,
    chatPath: '/v1/chat/completions',
    modelsPath: '/v1/models',
  });
