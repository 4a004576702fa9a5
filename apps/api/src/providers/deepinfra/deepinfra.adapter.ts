import { OpenAICompatibleAdapter } from '../openai-compatible/openai-compatible.adapter.ts';

/** DeepInfra's OpenAI endpoint; needs a key (the keyless web route wants a captcha now). */
export const deepInfraAdapter = () =>
  new OpenAICompatibleAdapter({
    id: 'deepinfra',
    name: 'DeepInfra',
    defaultBaseUrl: 'https://api.deepinfra.com/v1/openai',
    requiresKey: true,
  });
