import { OpenAICompatibleAdapter } from '../openai-compatible/openai-compatible.adapter.ts';

/** HuggingFace Inference Providers router (never the legacy api-inference host, which answers 410). */
export const huggingFaceAdapter = () =>
  new OpenAICompatibleAdapter({
    id: 'huggingface',
    name: 'HuggingFace',
    defaultBaseUrl: 'https://router.huggingface.co',
    requiresKey: true,
    chatPath: '/v1/chat/completions',
    modelsPath: '/v1/models',
  });
