/**
 * What the API 文档 page says: sections, code samples filled with this server's real address,
 * the endpoint lists and the one-api channel settings. The endpoint lists must name exactly the
 * operations of the OpenAPI document (/docs-json): test/e2e/endpoint-lists.e2e-spec.ts checks.
 */
import { API_KEY_PLACEHOLDER, type Snippet, buildSnippets } from '../dashboard/snippets';

export interface DocSection {
  id: string;
  title: string;
  icon: string;
}

export const DOC_SECTIONS: readonly DocSection[] = [
  { id: 'overview', title: '概览', icon: 'info' },
  { id: 'auth', title: '认证与客户端密钥', icon: 'key' },
  { id: 'chat', title: '对话补全', icon: 'forum' },
  { id: 'models', title: '模型列表', icon: 'deployed_code' },
  { id: 'images', title: '图片生成', icon: 'image' },
  { id: 'speech', title: '语音合成', icon: 'record_voice_over' },
  { id: 'errors', title: '响应头与错误', icon: 'report' },
  { id: 'admin', title: '管理 API', icon: 'admin_panel_settings' },
  { id: 'one-api', title: '对接 one-api', icon: 'lan' },
];

/** `http://host:8080/v1` → `http://host:8080` (what one-api and the admin API take). */
export function originOf(baseUrl: string): string {
  return baseUrl.replace(/\/v1\/?$/, '');
}

/** The model the chat samples use: served by PollinationsAI, which works without any key. */
export const SAMPLE_CHAT_MODEL = 'gpt-4o-mini';

export function chatSamples(baseUrl: string, model = SAMPLE_CHAT_MODEL): Snippet[] {
  return buildSnippets(baseUrl, model);
}

export function modelsSamples(baseUrl: string, apiKey = API_KEY_PLACEHOLDER): Snippet[] {
  return [
    {
      id: 'python',
      label: 'Python',
      language: 'python',
      code: `from openai import OpenAI

client = OpenAI(base_url="${baseUrl}", api_key="${apiKey}")

for model in client.models.list():
    print(model.id, model.owned_by)
`,
    },
    {
      id: 'curl',
      label: 'cURL',
      language: 'bash',
      code: `curl ${baseUrl}/models \\
  -H "Authorization: Bearer ${apiKey}"

# 单个模型
curl ${baseUrl}/models/${SAMPLE_CHAT_MODEL} \\
  -H "Authorization: Bearer ${apiKey}"
`,
    },
    {
      id: 'javascript',
      label: 'JavaScript',
      language: 'javascript',
      code: `const response = await fetch("${baseUrl}/models", {
  headers: { Authorization: "Bearer ${apiKey}" },
});
const { data } = await response.json();
console.log(data.map((m) => m.id));
`,
    },
  ];
}

export function imageSamples(baseUrl: string, apiKey = API_KEY_PLACEHOLDER): Snippet[] {
  return [
    {
      id: 'python',
      label: 'Python',
      language: 'python',
      code: `from openai import OpenAI
import base64

client = OpenAI(base_url="${baseUrl}", api_key="${apiKey}")

# 默认返回链接（由网关托管，默认 1 小时内有效）
result = client.images.generate(model="flux", prompt="雪山下的小木屋，油画风格", size="1024x768", n=2)
for image in result.data:
    print(image.url)

# 直接拿 base64
result = client.images.generate(model="flux-schnell", prompt="一只戴墨镜的柴犬", response_format="b64_json")
with open("shiba.png", "wb") as f:  # 实际格式以文件头为准（PNG 或 JPEG）
    f.write(base64.b64decode(result.data[0].b64_json))
`,
    },
    {
      id: 'curl',
      label: 'cURL',
      language: 'bash',
      code: `curl ${baseUrl}/images/generations \\
  -H "Content-Type: application/json" \\
  -H "Authorization: Bearer ${apiKey}" \\
  -d '{"model": "flux", "prompt": "一碗热气腾腾的拉面", "size": "512x512", "response_format": "url"}'
`,
    },
    {
      id: 'javascript',
      label: 'JavaScript',
      language: 'javascript',
      code: `const response = await fetch("${baseUrl}/images/generations", {
  method: "POST",
  headers: {
    "Content-Type": "application/json",
    Authorization: "Bearer ${apiKey}",
  },
  body: JSON.stringify({
    model: "flux",
    prompt: "赛博朋克风格的上海外滩夜景",
    size: "1792x1024",
  }),
});
const result = await response.json();
console.log(result.data[0].url);
`,
    },
  ];
}

export function speechSamples(baseUrl: string, apiKey = API_KEY_PLACEHOLDER): Snippet[] {
  return [
    {
      id: 'python',
      label: 'Python',
      language: 'python',
      code: `from openai import OpenAI

client = OpenAI(base_url="${baseUrl}", api_key="${apiKey}")

with client.audio.speech.with_streaming_response.create(
    model="gpt-4o-mini-tts",
    voice="nova",
    input="你好，欢迎使用 GPT4Free Pool！",
    response_format="mp3",
) as response:
    response.stream_to_file("hello.mp3")
`,
    },
    {
      id: 'curl',
      label: 'cURL',
      language: 'bash',
      code: `curl ${baseUrl}/audio/speech \\
  -H "Content-Type: application/json" \\
  -H "Authorization: Bearer ${apiKey}" \\
  -d '{"model": "gpt-4o-mini-tts", "voice": "shimmer", "input": "一二三，测试语音。", "response_format": "opus"}' \\
  --output test.opus
`,
    },
    {
      id: 'javascript',
      label: 'JavaScript',
      language: 'javascript',
      code: `// Node.js 18+
import { writeFile } from "node:fs/promises";

const response = await fetch("${baseUrl}/audio/speech", {
  method: "POST",
  headers: {
    "Content-Type": "application/json",
    Authorization: "Bearer ${apiKey}",
  },
  body: JSON.stringify({
    model: "gpt-4o-mini-tts",
    voice: "alloy",
    input: "今天天气不错。",
    response_format: "wav",
  }),
});
await writeFile("weather.wav", Buffer.from(await response.arrayBuffer()));
`,
    },
  ];
}

/** Logging in to the admin API and calling it, with cURL. */
export function adminSample(origin: string): Snippet {
  return {
    id: 'curl',
    label: 'cURL',
    language: 'bash',
    code: `# 登录拿到管理员令牌（有效期 ADMIN_SESSION_TTL_HOURS，默认 24 小时）
TOKEN=$(curl -s ${origin}/api/auth/login \\
  -H "Content-Type: application/json" \\
  -d '{"password": "你的管理员密码"}' | jq -r .token)

# 之后的 /api 请求都带上它
curl ${origin}/api/models -H "Authorization: Bearer $TOKEN"
curl -X POST ${origin}/api/discovery/refresh -H "Authorization: Bearer $TOKEN"
`,
  };
}

export interface Endpoint {
  method: string;
  path: string;
  summary: string;
}

/** The `/v1` endpoints: OpenAI-compatible, and Anthropic's Messages API. */
export const V1_ENDPOINTS: readonly Endpoint[] = [
  { method: 'POST', path: '/v1/chat/completions', summary: '对话补全，流式（SSE）与非流式；支持工具调用、推理内容、图片输入' },
  { method: 'POST', path: '/v1/messages', summary: 'Anthropic Messages 兼容（Claude Code、Anthropic SDK），流式与非流式；错误为 Anthropic 格式' },
  { method: 'POST', path: '/v1/messages/count_tokens', summary: '估算 Anthropic 消息的输入 token 数，不访问上游' },
  {
    method: 'POST',
    path: '/v1/responses',
    summary: 'OpenAI Responses API：流式（类型化 SSE 事件）与非流式；函数工具、推理内容、previous_response_id 续接对话',
  },
  {
    method: 'GET · DELETE',
    path: '/v1/responses/{response_id}',
    summary: '取回 / 删除已保存的回答（store 默认为 true，按客户端密钥隔离，RESPONSES_TTL_SECONDS 后过期）',
  },
  { method: 'GET', path: '/v1/responses/{response_id}/input_items', summary: '已保存回答那次请求的输入项（每项带 id），limit / order / after 分页' },
  { method: 'GET', path: '/v1/models', summary: '模型列表（OpenAI 格式）' },
  { method: 'GET', path: '/v1/models/{id}', summary: '查询单个模型' },
  { method: 'POST', path: '/v1/images/generations', summary: '图片生成，返回网关托管的链接或 base64' },
  { method: 'POST', path: '/v1/audio/speech', summary: '语音合成，返回音频文件本身' },
  { method: 'POST', path: '/v1/audio/transcriptions', summary: '语音识别：上传音频（multipart），返回 json、text、verbose_json、srt 或 vtt' },
  { method: 'POST', path: '/v1/embeddings', summary: '文本嵌入：单条或批量，float 或 base64 向量；大批量按上游上限拆分后按顺序合并' },
  { method: 'GET', path: '/v1/images/files/{file}', summary: '图片生成返回的链接，不需要密钥，到期后失效' },
  { method: 'GET', path: '/v1/key', summary: '用客户端密钥查询它自己的限额、各配额的已用 / 剩余与重置时间' },
  {
    method: 'GET',
    path: '/v1/dashboard/billing/subscription',
    summary: 'one-api 兼容的订阅信息（ChatBox、NextChat 显示余额）；金额单位是 token：hard_limit_usd 为 token 配额，access_until 为过期时间',
  },
  { method: 'GET', path: '/v1/dashboard/billing/usage', summary: 'one-api 兼容的用量：同一 token 配额当前周期已用的 token 数 × 100' },
];

export interface EndpointGroup {
  title: string;
  rows: readonly Endpoint[];
}

/** The admin API (`/api/*`) and the public endpoints outside /v1, by area. */
export const ADMIN_ENDPOINTS: readonly EndpointGroup[] = [
  {
    title: '登录',
    rows: [
      { method: 'POST', path: '/api/auth/login', summary: '管理员登录：{ "password" } → { token, expiresAt }；连续输错会被限流（429）' },
      { method: 'GET', path: '/api/auth/session', summary: '当前会话的过期时间' },
      { method: 'POST', path: '/api/auth/logout', summary: '退出登录，令牌立即失效' },
      { method: 'GET', path: '/api/auth/api-access', summary: '/v1 当前的开放方式：需要密钥 / 对所有人开放 / 只回应本机' },
    ],
  },
  {
    title: '提供商与密钥池',
    rows: [
      { method: 'GET', path: '/api/providers', summary: '所有提供商：状态与原因、熔断器、健康度、密钥（只显示掩码）、模型数' },
      { method: 'GET', path: '/api/providers/{name}', summary: '单个提供商详情（名字不区分大小写）' },
      { method: 'PATCH', path: '/api/providers/{name}', summary: '修改 enabled、baseUrl、proxy、priority、weight、extra；设为 null 恢复环境变量的值' },
      { method: 'POST', path: '/api/providers/{name}/toggle', summary: '启用 / 停用提供商' },
      { method: 'POST', path: '/api/providers/{name}/health', summary: '立即检查该提供商的健康状态' },
      { method: 'POST', path: '/api/providers/{name}/keys', summary: '向密钥池添加密钥（加密保存）' },
      { method: 'DELETE', path: '/api/providers/{name}/keys/{id}', summary: '删除控制台添加的密钥' },
      { method: 'POST', path: '/api/providers/{name}/keys/{id}/test', summary: '用这一个密钥真实请求一次' },
      { method: 'GET', path: '/api/quotas', summary: '免费额度账本：各提供商生效的限额、各密钥与合计的已用 / 剩余 / 重置时间、休息中的密钥' },
      { method: 'PUT · DELETE', path: '/api/quotas/{name}', summary: '设置 / 清除提供商每个密钥的限额（如 {"requests/day": 1000}；null 表示未知）' },
      { method: 'PUT · DELETE', path: '/api/quotas/{name}/keys/{id}', summary: '设置 / 清除单个密钥的限额（叠加在提供商的限额之上）' },
      {
        method: 'GET · PUT',
        path: '/api/routing',
        summary: '路由策略：查看生效中的策略及来源 / 设置（保存在存储中，所有副本共享；null 恢复为 ROUTING_STRATEGY）',
      },
      {
        method: 'GET · PUT',
        path: '/api/cache',
        summary: '响应缓存：查看开关、容量、条目与命中省下的请求和 token / 设置开关与强制缓存的模型（null 恢复为 RESPONSE_CACHE）',
      },
      { method: 'GET', path: '/api/routing/models', summary: '设置了自己的路由顺序、权重或强制提供商的模型' },
      {
        method: 'GET · PATCH · DELETE',
        path: '/api/routing/models/{id}',
        summary: '一个模型的路由：查看 / 设置它自己的路由顺序与权重（routes）和强制的提供商（forced）/ 恢复为提供商的设置',
      },
      { method: 'GET · POST', path: '/api/upstreams', summary: '自定义 OpenAI 兼容上游：列表 / 新增' },
      { method: 'PATCH · DELETE', path: '/api/upstreams/{name}', summary: '修改 / 删除控制台添加的上游' },
      { method: 'POST', path: '/api/upstreams/models', summary: '读取上游的模型列表（保存前用表单中的地址与密钥，密钥不回显）' },
      { method: 'POST', path: '/api/upstreams/test', summary: '测试上游：每个密钥一次 1 token 的对话，返回状态码、耗时与上游的错误原文' },
    ],
  },
  {
    title: '模型与发现',
    rows: [
      { method: 'GET', path: '/api/models', summary: '模型目录：分类与数量、每个模型的路由与发现状态、生效的别名；参数 category' },
      { method: 'GET', path: '/api/models/{id}', summary: '单个模型及其路由状态' },
      { method: 'POST', path: '/api/discovery/refresh', summary: '立即读取提供商的模型列表（全部，或 ?provider=）' },
      { method: 'POST · DELETE', path: '/api/models/{id}/routes/{provider}/pin', summary: '固定 / 取消固定一条路由' },
      { method: 'GET · PUT · DELETE', path: '/api/aliases', summary: '模型别名：查看 / 整表替换（保存在存储中）/ 恢复为 MODEL_ALIASES 的默认值' },
      {
        method: 'GET · PUT · DELETE',
        path: '/api/auto-models',
        summary: '虚拟模型（auto 等）：查看 / 整表替换（保存在存储中）/ 恢复为内置与 CATALOG_FILE 的默认值',
      },
      { method: 'GET', path: '/api/discovery/auto-add', summary: '每个提供商是否自动添加发现的模型、来源与加入的数量' },
      { method: 'PUT', path: '/api/discovery/auto-add/{provider}', summary: '开启 / 关闭一个提供商的自动添加（null 恢复 DISCOVERY_AUTO_ADD）' },
      { method: 'POST', path: '/api/models/{id}/promote', summary: '把自动发现的模型转为正式目录条目' },
    ],
  },
  {
    title: '客户端密钥',
    rows: [
      { method: 'GET · POST', path: '/api/keys', summary: '客户端密钥列表 / 创建（完整密钥只在创建时返回一次）' },
      { method: 'GET · PATCH', path: '/api/keys/{id}', summary: '查看 / 修改名称与限额（每分钟请求数、配额、过期时间、允许的模型与 IP、并发）' },
      { method: 'DELETE', path: '/api/keys/{id}', summary: '吊销，立即生效、不可恢复' },
      { method: 'POST', path: '/api/keys/{id}/revoke', summary: '同 DELETE /api/keys/{id}：吊销' },
    ],
  },
  {
    title: '统计、日志与健康',
    rows: [
      { method: 'GET', path: '/api/stats', summary: '统计：总计、时间序列、按提供商 / 模型 / 密钥分组；参数 range、granularity、dimension' },
      {
        method: 'GET',
        path: '/api/stats/breakdown',
        summary: '按提供商 / 模型 / 密钥细分的用量（最长 90 天）：前 N 个值与其余合计；参数 dimension、range、limit',
      },
      { method: 'GET', path: '/api/stats/keys/{id}', summary: '单个客户端密钥的用量：汇总与时间序列；参数 range、granularity' },
      { method: 'GET', path: '/api/stats/providers/{name}/models', summary: '单个提供商按模型的成功率与延迟（按上游尝试计）' },
      { method: 'GET', path: '/api/logs', summary: '请求日志，每条列出所有尝试；可按时间、模型、提供商、状态、密钥筛选' },
      { method: 'GET', path: '/api/logs/export', summary: '按当前筛选导出请求日志（CSV 或 JSONL，流式下载）；参数 format 与 /api/logs 的筛选参数' },
      { method: 'POST', path: '/api/health/check', summary: '立即检查所有已启用、已配置的提供商' },
      { method: 'GET', path: '/api/health/providers', summary: '各提供商的路由状态与最近一次检查' },
      { method: 'GET', path: '/api/health/history/{provider}', summary: '某提供商的检查历史' },
      { method: 'POST', path: '/api/chat/test', summary: '在线对话测试：与 /v1/chat/completions 相同，用管理员令牌' },
      { method: 'POST', path: '/api/images/test', summary: '图片生成测试：与 /v1/images/generations 相同，用管理员令牌' },
      { method: 'POST', path: '/api/embeddings/test', summary: '嵌入测试：与 /v1/embeddings 相同，用管理员令牌' },
      { method: 'POST', path: '/api/audio/transcriptions/test', summary: '语音识别测试：与 /v1/audio/transcriptions 相同（multipart），用管理员令牌' },
      { method: 'GET', path: '/api/playground/limits', summary: '在线对话测试的上限：语音识别文件的最大字节数、一次嵌入的最多输入条数' },
    ],
  },
  {
    title: '公开端点（无需登录）',
    rows: [
      { method: 'GET', path: '/health', summary: '服务健康检查：存储与提供商概况' },
      { method: 'GET', path: '/health/live', summary: '存活探针：进程在运行即 200' },
      { method: 'GET', path: '/health/ready', summary: '就绪探针：开始关闭后 503' },
      { method: 'GET', path: '/metrics', summary: 'Prometheus 指标（g4f_ 前缀）' },
      { method: 'GET', path: '/docs', summary: 'Swagger UI；OpenAPI 文档在 /docs-json 与 /docs-yaml' },
    ],
  },
];

export interface ErrorRow {
  when: string;
  status: string;
  code: string;
}

export const ERROR_ROWS: readonly ErrorRow[] = [
  { when: '请求体不是合法 JSON', status: '400', code: 'invalid_json' },
  { when: '参数不合法（param 指出是哪个字段）', status: '400', code: 'invalid_value' },
  { when: '未知模型', status: '404', code: 'model_not_found' },
  { when: '模型类别不对（如图片模型用于对话）', status: '400', code: 'model_not_supported' },
  { when: '未知提供商 / 该提供商不提供此模型', status: '400', code: 'unknown_provider / provider_model_mismatch' },
  { when: '请求体超过上限（BODY_LIMIT，默认 10 MB）', status: '413', code: 'request_too_large' },
  { when: '缺少或错误的 API Key', status: '401', code: 'missing_api_key / invalid_api_key' },
  { when: '客户端密钥超过每分钟请求数', status: '429', code: 'rate_limit_exceeded' },
  { when: '当前没有可用的提供商（未配置、停用或冷却中）', status: '503', code: 'no_available_provider' },
  { when: '所有候选都失败', status: '502', code: 'all_providers_failed' },
  { when: '所有候选都超时', status: '504', code: 'upstream_timeout' },
  { when: '所有候选都被限流', status: '429', code: 'rate_limit_exceeded' },
  { when: '所有候选都认为请求有误（带上游的原始信息）', status: '400', code: 'upstream_bad_request' },
  { when: '提示超出模型的上下文长度（不再换提供商重发）', status: '400', code: 'context_length_exceeded' },
  { when: '提供商按内容政策拒绝（视为其决定；FAILOVER_ON_CONTENT_POLICY=true 时换下一个）', status: '400', code: 'content_policy_violation' },
];

export interface ChannelField {
  field: string;
  value: string;
  note: string;
}

/** The Docker network address of the pool in docker-compose.oneapi.yml. */
export const ONEAPI_COMPOSE_BASE_URL = 'http://freeapi-pool:8080';

/** What to fill in one-api's 添加渠道 form (docs/deployment.md, one-api). */
export function oneApiChannel(origin: string): ChannelField[] {
  return [
    { field: '类型', value: 'OpenAI', note: '' },
    { field: '名称', value: 'gpt4free-pool', note: '随意' },
    { field: 'Base URL', value: origin, note: `与 one-api 一起用 docker-compose.oneapi.yml 部署时填 ${ONEAPI_COMPOSE_BASE_URL}；都不要带 /v1` },
    {
      field: '密钥',
      value: 'free',
      note: '未设置 API_KEY 且没有客户端密钥时任意值都行（默认只有本机能调用）；否则填 API_KEY 的值（compose 中即 FREEAPI_KEY）或在「API 密钥」页创建的密钥',
    },
    { field: '模型', value: 'gpt-4o-mini,deepseek-r1,llama-3.3-70b,qwen-3-235b', note: '模型名必须与本服务的模型 ID 完全一致（见 /v1/models 或「模型浏览」）' },
  ];
}

export const ONEAPI_COMPOSE_COMMAND = `# 同时启动 gpt4free-pool + one-api
docker compose -f docker-compose.oneapi.yml up -d
`;
