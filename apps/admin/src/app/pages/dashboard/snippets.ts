/** The dashboard's 快速开始 snippets, filled with this server's real base URL and a model it serves. */

export type SnippetId = 'python' | 'curl' | 'javascript';

export interface Snippet {
  id: SnippetId;
  label: string;
  /** highlight.js language. */
  language: 'python' | 'bash' | 'javascript';
  code: string;
}

/** Shown in the snippets; with no API_KEY and no client keys the server accepts any value. */
export const API_KEY_PLACEHOLDER = 'YOUR_API_KEY';

/** `https://pool.example.com` → `https://pool.example.com/v1` (the base URL OpenAI SDKs take). */
export function baseUrlFor(origin: string): string {
  return `${origin.replace(/\/+$/, '')}/v1`;
}

export function buildSnippets(baseUrl: string, model: string, apiKey = API_KEY_PLACEHOLDER): Snippet[] {
  const m = JSON.stringify(model);
  return [
    {
      id: 'python',
      label: 'Python',
      language: 'python',
      code: `from openai import OpenAI

client = OpenAI(
    base_url="${baseUrl}",
    api_key="${apiKey}",
)

stream = client.chat.completions.create(
    model=${m},
    messages=[{"role": "user", "content": "你好"}],
    stream=True,
)
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="")
`,
    },
    {
      id: 'curl',
      label: 'cURL',
      language: 'bash',
      code: `curl ${baseUrl}/chat/completions \\
  -H "Content-Type: application/json" \\
  -H "Authorization: Bearer ${apiKey}" \\
  -d '{
    "model": ${m},
    "messages": [{"role": "user", "content": "你好"}]
  }'
`,
    },
    {
      id: 'javascript',
      label: 'JavaScript',
      language: 'javascript',
      code: `const response = await fetch("${baseUrl}/chat/completions", {
  method: "POST",
  headers: {
    "Content-Type": "application/json",
    Authorization: "Bearer ${apiKey}",
  },
  body: JSON.stringify({
    model: ${m},
    messages: [{ role: "user", content: "你好" }],
  }),
});
const data = await response.json();
console.log(data.choices[0].message.content);
`,
    },
  ];
}
