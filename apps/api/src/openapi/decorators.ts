/**
 * Decorators and pieces the controllers use to describe themselves in the API document (/docs).
 * Chinese for people (summaries, descriptions, tag names); component names and fields are
 * the API's own.
 */
import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiSecurity } from '@nestjs/swagger';
import type { ApiSchemas } from './api-types.ts';

/** Tags, in the order the document lists them, with their descriptions. */
export const DOC_TAGS = {
  chat: '对话',
  messages: 'Anthropic 消息',
  images: '图像',
  audio: '语音',
  embeddings: '嵌入',
  models: '模型',
  auth: '管理员认证',
  providers: '提供商管理',
  modelsAdmin: '模型管理',
  playground: '对话测试',
  clientKeys: '客户端密钥',
  stats: '统计与日志',
  health: '健康检查',
  metrics: '监控指标',
} as const;

export const DOC_TAG_DESCRIPTIONS: Record<(typeof DOC_TAGS)[keyof typeof DOC_TAGS], string> = {
  对话: 'OpenAI 兼容的对话补全（`/v1/chat/completions`），支持流式（SSE）、工具调用、推理内容与图片输入；请求在多个免费提供商之间自动故障转移。',
  'Anthropic 消息':
    'Anthropic Messages API 兼容接口（`/v1/messages`、`/v1/messages/count_tokens`），供 Claude Code 与 Anthropic SDK 使用：走与对话补全相同的故障转移，错误为 Anthropic 的格式。',
  图像: 'OpenAI 兼容的图片生成（`/v1/images/generations`），以及网关托管的图片文件（`/v1/images/files/…`）。',
  语音: 'OpenAI 兼容的语音合成（`/v1/audio/speech`），直接返回音频文件。',
  嵌入: 'OpenAI 兼容的文本嵌入（`/v1/embeddings`）：单条或批量文本，`float` 或 `base64` 编码的向量；请求在多个提供商之间故障转移，超过上游单次上限的批量会拆分后按顺序合并。',
  模型: 'OpenAI 兼容的模型列表（`/v1/models`）。',
  管理员认证: '管理台登录：用管理员密码换取会话令牌，其余 `/api` 接口以 `Authorization: Bearer <令牌>` 访问。',
  提供商管理: '内置提供商与自定义 OpenAI 兼容上游：启用 / 停用、地址与代理、优先级、上游密钥池、健康检查。',
  模型管理: '模型目录与模型发现：每个模型的路由、路由在提供商模型列表中的状态、固定（pin）路由。',
  对话测试: '管理台的在线对话测试：请求与响应和 `/v1/chat/completions`、`/v1/images/generations` 完全相同，用管理员令牌访问，不需要客户端密钥。',
  客户端密钥:
    '访问 `/v1` 的客户端 API 密钥：创建、改名、限额（每分钟请求数、每日 / 每月 / 总配额、过期时间、允许的模型与 IP、并发）、吊销、用量；以及密钥持有者用自己的密钥查询的 `/v1/key` 与 one-api 兼容的账单接口。',
  统计与日志: '请求统计（总量、成功率、延迟、token、按提供商 / 模型 / 密钥细分）与请求日志。',
  健康检查: '公开的存活 / 就绪检查（`/health`），以及管理台的提供商健康检查。',
  监控指标: 'Prometheus 指标（`/metrics`），公开访问。',
};

/** Security scheme names (components.securitySchemes). */
export const SECURITY = {
  admin: 'admin',
  clientKey: 'client-key',
  clientKeyHeader: 'client-key-header',
} as const;

export const schemaRef = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });
export const headerRef = (name: string): { $ref: string } => ({ $ref: `#/components/headers/${name}` });

/** Every `/api` endpoint but login: the admin session token. */
export const ApiAdminAuth = (): ClassDecorator & MethodDecorator => ApiBearerAuth(SECURITY.admin);

/** `/v1`: a client key (API_KEY or one made in the console) as a Bearer token or in `x-api-key`. */
export const ApiClientKeyAuth = (): ClassDecorator & MethodDecorator =>
  applyDecorators(ApiBearerAuth(SECURITY.clientKey), ApiSecurity(SECURITY.clientKeyHeader));

/** Statuses an endpoint can answer with an error, and what each means in general. */
const ERROR_DESCRIPTIONS = {
  400: '请求无效：JSON 无法解析、字段缺失或取值不合法（`param` 指出是哪个字段）。',
  401: '未认证：缺少令牌 / 密钥，或令牌 / 密钥无效、已过期、已吊销。',
  403: '禁止访问：未设置任何密钥时，`/v1` 只回应本机客户端（`code: api_local_only`）；创建客户端密钥、设置 `API_KEY` 或 `ALLOW_OPEN_API=true` 后对外开放。',
  404: '资源不存在。',
  409: '冲突：同名资源已存在。',
  413: '请求体过大（上限由 BODY_LIMIT 设置）。',
  415: '请求体不是 JSON：须以 `Content-Type: application/json` 发送（`code: unsupported_media_type`）。',
  429: '请求过于频繁：超出限速，或所有上游都被限流；`retry-after` 头给出建议等待的秒数。',
  502: '所有可用提供商都失败了；`error.attempts` 列出每一次尝试。',
  503: '服务暂不可用；`retry-after` 头给出建议等待的秒数。',
  504: '所有可用提供商都超时了；`error.attempts` 列出每一次尝试。',
} as const;

export type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

/**
 * Error answers, all in OpenAI's envelope (`ErrorResponse`); `pool` marks the ones that may
 * list the upstream attempts (`PoolErrorResponse`). `details` adds to the general description.
 */
export function ApiErrors(statuses: ErrorStatus[], details: Partial<Record<ErrorStatus, string>> = {}, pool: ErrorStatus[] = []): MethodDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: details[status] ? `${ERROR_DESCRIPTIONS[status]}${details[status]}` : ERROR_DESCRIPTIONS[status],
        content: { 'application/json': { schema: schemaRef(pool.includes(status) ? 'PoolErrorResponse' : 'ErrorResponse') } },
        ...(status === 429 || status === 503 ? { headers: { 'retry-after': headerRef('retry-after') } } : {}),
      }),
    ),
  );
}

type Result<M> = M extends (...args: never[]) => infer R ? Awaited<R> : never;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** The descriptor of a handler whose answer is exactly `T` (or a promise of it). */
type Answering<M, T> = TypedPropertyDescriptor<M> & (Same<Result<M>, T> extends true ? unknown : { 'the handler must return the documented type': T });

/**
 * Documents a JSON answer with a schema generated from a TypeScript type (ApiSchemas); only
 * compiles on a handler that returns exactly that type, so the document follows the code.
 */
export function ApiJsonResponse<K extends keyof ApiSchemas>(name: K, description: string, status = 200) {
  const decorate = ApiResponse({ status, description, content: { 'application/json': { schema: schemaRef(name) } } });
  return <M extends (...args: never[]) => unknown>(target: object, key: string | symbol, descriptor: Answering<M, ApiSchemas[K]>): void => {
    decorate(target, key, descriptor);
  };
}

/** An answer without a body (204). */
export const ApiEmptyResponse = (description: string, status = 204): MethodDecorator => ApiResponse({ status, description });

/** The headers a /v1 answer carries once a provider has served it. */
export const POOL_RESPONSE_HEADERS = {
  'x-pool-provider': headerRef('x-pool-provider'),
  'x-pool-upstream-model': headerRef('x-pool-upstream-model'),
};
