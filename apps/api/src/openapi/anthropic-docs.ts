/**
 * How the Anthropic Messages API (/v1/messages) appears in the API document. Anthropic publishes
 * no OpenAPI document to vendor, so its request, message, stream event and error shapes are
 * written here, as far as the gateway reads and writes them (Anthropic's field names, Chinese
 * descriptions).
 */
import { applyDecorators } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import { ApiBody, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { POOL_RESPONSE_HEADERS, headerRef, schemaRef } from './decorators.ts';

type Schemas = NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>;

const block = { type: 'object', required: ['type'], properties: { type: { type: 'string' } }, additionalProperties: true };
const blocks = (description: string) => ({ oneOf: [{ type: 'string' }, { type: 'array', items: block }], description });

const PROMPT_PROPERTIES = {
  model: { type: 'string', minLength: 1, description: '网关模型目录中的 id（见 `GET /v1/models`），或运营者配置的别名。' },
  messages: {
    type: 'array',
    minItems: 1,
    description: '对话轮次。',
    items: {
      type: 'object',
      required: ['role', 'content'],
      properties: {
        role: { enum: ['user', 'assistant'] },
        content: blocks(
          '字符串，或内容块数组：`text`、`image`（`base64` 或 `url` 来源）、`tool_use`（assistant）、`tool_result`（user）；`thinking` 块接受但不转发。',
        ),
      },
    },
  },
  system: blocks('系统提示：字符串或 `text` 块数组。'),
  tools: {
    type: 'array',
    maxItems: 128,
    description: '客户端工具：`{name, description, input_schema}`。Anthropic 的服务端工具（web search、bash 等）不支持，返回 400。',
    items: { type: 'object', additionalProperties: true },
  },
  tool_choice: {
    type: 'object',
    required: ['type'],
    description: '`auto`、`any`（必须调用工具）、`tool`（配合 `name`）或 `none`；`disable_parallel_tool_use` 转为 `parallel_tool_calls: false`。',
    properties: { type: { enum: ['auto', 'any', 'tool', 'none'] }, name: { type: 'string' }, disable_parallel_tool_use: { type: 'boolean' } },
  },
  thinking: { type: 'object', description: '接受但不转发：推理模型的思考内容总会以 `thinking` 块返回。', additionalProperties: true },
};

const USAGE = {
  type: 'object',
  required: ['input_tokens', 'output_tokens'],
  properties: {
    input_tokens: { type: 'integer' },
    output_tokens: { type: 'integer' },
    cache_creation_input_tokens: { type: 'integer' },
    cache_read_input_tokens: { type: 'integer' },
  },
};

/** Component schemas of the Messages API, added to the document next to OpenAI's. */
export const ANTHROPIC_SCHEMAS: Schemas = {
  AnthropicCreateMessageRequest: {
    type: 'object',
    description: 'Anthropic 的 `POST /v1/messages` 请求体，加上网关扩展字段 `provider`。未列出的字段不转发给上游。',
    required: ['model', 'messages', 'max_tokens'],
    properties: {
      ...PROMPT_PROPERTIES,
      max_tokens: { type: 'integer', minimum: 1, description: '最多生成的 token 数；达到时 `stop_reason` 为 `max_tokens`。' },
      stop_sequences: { type: 'array', maxItems: 4, items: { type: 'string' }, description: '停止序列，最多 4 个（转为上游的 `stop`）。' },
      temperature: { type: 'number', minimum: 0, maximum: 1 },
      top_p: { type: 'number', minimum: 0, maximum: 1 },
      top_k: { type: 'integer', minimum: 0, description: '只转发给支持它的提供商（DeepInfra、Together、CloudflareAI），发往其他提供商时不带。' },
      stream: { type: 'boolean', description: '`true` 时以 SSE 返回 Anthropic 的事件流。' },
      metadata: { type: 'object', description: '`user_id` 转为上游的 `user`。', properties: { user_id: { type: 'string' } } },
      provider: { type: 'string', minLength: 1, description: '网关扩展：只用这个提供商（名字不区分大小写），不做故障转移。' },
    },
  },
  AnthropicCountTokensRequest: {
    type: 'object',
    description: 'Anthropic 的 `POST /v1/messages/count_tokens` 请求体。',
    required: ['model', 'messages'],
    properties: PROMPT_PROPERTIES,
  },
  AnthropicTokenCount: {
    type: 'object',
    required: ['input_tokens'],
    properties: { input_tokens: { type: 'integer', description: '网关的估算（o200k_base 分词），与上游模型的实际计数可能略有出入。' } },
  },
  AnthropicMessage: {
    type: 'object',
    description: 'Anthropic 的 `Message`。',
    required: ['id', 'type', 'role', 'model', 'content', 'stop_reason', 'stop_sequence', 'usage'],
    properties: {
      id: { type: 'string' },
      type: { enum: ['message'] },
      role: { enum: ['assistant'] },
      model: { type: 'string', description: '请求中的 `model`。' },
      content: {
        type: 'array',
        description: '`thinking`（推理模型）、`text`、`tool_use` 块，依次排列。',
        items: {
          oneOf: [
            { type: 'object', required: ['type', 'text'], properties: { type: { enum: ['text'] }, text: { type: 'string' } } },
            {
              type: 'object',
              required: ['type', 'thinking', 'signature'],
              properties: { type: { enum: ['thinking'] }, thinking: { type: 'string' }, signature: { type: 'string' } },
            },
            {
              type: 'object',
              required: ['type', 'id', 'name', 'input'],
              properties: { type: { enum: ['tool_use'] }, id: { type: 'string' }, name: { type: 'string' }, input: { type: 'object' } },
            },
          ],
        },
      },
      stop_reason: { enum: ['end_turn', 'max_tokens', 'tool_use', 'stop_sequence', 'refusal', null] },
      stop_sequence: { type: ['string', 'null'] },
      usage: USAGE,
    },
  },
  AnthropicMessageStreamEvent: {
    type: 'object',
    description:
      'SSE 事件（`event:` 行与 `data` 中的 `type` 相同），依次为：`message_start`、每个内容块的 `content_block_start` / `content_block_delta`（`text_delta`、`thinking_delta`、`input_json_delta`）/ `content_block_stop`（第一个块开始后有一次 `ping`）、`message_delta`（`stop_reason` 与 `usage`）、`message_stop`。开始输出后上游失败时，以 `error` 事件结束，其后没有 `message_stop`。',
    required: ['type'],
    properties: {
      type: { enum: ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop', 'error'] },
    },
    additionalProperties: true,
  },
  AnthropicErrorResponse: {
    type: 'object',
    description: 'Anthropic 格式的错误：`/v1/messages` 下的所有错误（校验、认证、限流、请求体过大、模型不存在、所有上游失败）都是这个格式。',
    required: ['type', 'error'],
    properties: {
      type: { enum: ['error'] },
      error: {
        type: 'object',
        required: ['type', 'message'],
        properties: {
          type: {
            enum: [
              'invalid_request_error',
              'authentication_error',
              'permission_error',
              'not_found_error',
              'request_too_large',
              'rate_limit_error',
              'api_error',
              'timeout_error',
              'overloaded_error',
            ],
          },
          message: { type: 'string' },
          attempts: { type: 'array', items: schemaRef('AttemptSummary'), description: '网关扩展：所有上游都失败时，列出每一次尝试。' },
        },
      },
      request_id: { type: ['string', 'null'], description: '与响应头 `x-request-id` 相同。' },
    },
  },
};

/** Statuses the Messages API can answer with an error, all in Anthropic's envelope. */
const ERRORS: Record<number, string> = {
  400: '`invalid_request_error`：JSON 无法解析、字段缺失或取值不合法、不支持的内容块或服务端工具，或所有上游都以 400 拒绝。',
  401: '`authentication_error`：启用了密钥时缺少或密钥无效（`x-api-key` 或 `Authorization: Bearer`）。',
  403: '`permission_error`：未设置任何密钥时只回应本机客户端。',
  404: '`not_found_error`：`model` 不在模型目录中。',
  413: '`request_too_large`：请求体超过 BODY_LIMIT。',
  415: '`invalid_request_error`：请求体不是 JSON。',
  429: '`rate_limit_error`：客户端密钥超出每分钟请求数，或所有上游都被限流。',
  502: '`api_error`：所有可用提供商都失败了；`error.attempts` 列出每一次尝试。',
  504: '`timeout_error`：所有可用提供商都超时了。',
};

const AnthropicErrors = (statuses: number[]): MethodDecorator =>
  applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: ERRORS[status]!,
        content: { 'application/json': { schema: schemaRef('AnthropicErrorResponse') } },
        ...(status === 429 ? { headers: { 'retry-after': headerRef('retry-after') } } : {}),
      }),
    ),
  );

const CREATE_DESCRIPTION = `与 Anthropic 的 \`POST /v1/messages\` 相同，可直接用 Anthropic 官方 SDK 或 Claude Code（\`baseURL\` / \`ANTHROPIC_BASE_URL\` 设为 \`http://<网关地址>\`）。密钥以 \`x-api-key\` 或 \`Authorization: Bearer\` 发送，与其它 \`/v1\` 接口相同；\`anthropic-version\` 请求头接受但不要求。

请求被翻译成对话补全，走同一套故障转移：流式请求在第一段内容之前失败会换下一个提供商，开始输出后不再切换。\`stream: true\` 时返回 Anthropic 的 SSE 事件流（见 \`AnthropicMessageStreamEvent\`）。

与 Anthropic 的差别：
- **\`model\`** 是网关模型目录中的 id（或运营者配置的别名）；响应中的 \`model\` 回显请求中的值。
- **\`stop_reason\`**：\`end_turn\`、\`max_tokens\`、\`tool_use\`、\`refusal\`（上游内容过滤），以及 \`stop_sequence\`：只有上游说明了命中的是哪个停止序列时（基于 vLLM 的提供商会说明）才是它，并在 \`stop_sequence\` 中给出；否则命中停止序列也报告为 \`end_turn\`。
- **\`thinking\`** 接受但不转发；推理模型的思考内容以 \`thinking\` 块返回（\`signature\` 为空字符串），之后的请求中带回的 \`thinking\` 块不转发给上游。
- 不支持：服务端工具、\`document\` 块、提示缓存（\`cache_control\` 被忽略，缓存用量总是 0）。
- 扩展字段 **\`provider\`**：只用指定的提供商。`;

export const ApiCreateMessageOperation = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({ summary: '创建消息（Anthropic Messages 兼容，支持流式）', description: CREATE_DESCRIPTION, operationId: 'createMessage' }),
    ApiBody({
      required: true,
      schema: schemaRef('AnthropicCreateMessageRequest'),
      examples: {
        basic: { summary: '最简单的消息', value: { model: 'gpt-4o-mini', max_tokens: 1024, messages: [{ role: 'user', content: '你好，介绍一下你自己。' }] } },
        stream: {
          summary: '流式输出（SSE 事件流）',
          value: {
            model: 'gpt-4o-mini',
            max_tokens: 1024,
            stream: true,
            system: '用中文回答。',
            messages: [{ role: 'user', content: '写一首关于春天的短诗。' }],
          },
        },
      },
    }),
    ApiResponse({
      status: 200,
      description: '`stream` 为 false 或未设置时返回一个 `message`；`stream: true` 时返回 SSE 事件流。',
      headers: POOL_RESPONSE_HEADERS,
      content: {
        'application/json': { schema: schemaRef('AnthropicMessage') },
        'text/event-stream': { schema: schemaRef('AnthropicMessageStreamEvent') },
      },
    }),
    AnthropicErrors([400, 401, 403, 404, 413, 415, 429, 502, 504]),
  );

export const ApiCountMessageTokensOperation = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: '估算消息的输入 token 数（Anthropic 兼容）',
      operationId: 'countMessageTokens',
      description:
        '与 Anthropic 的 `POST /v1/messages/count_tokens` 相同：返回 `{input_tokens}`。这是网关的估算（o200k_base 分词，与上游没有用量时记录的估算相同），不访问任何上游；`model` 须在模型目录中。',
    }),
    ApiBody({
      required: true,
      schema: schemaRef('AnthropicCountTokensRequest'),
      examples: { basic: { summary: '估算一条消息', value: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: '你好' }] } } },
    }),
    ApiResponse({ status: 200, description: '输入 token 数。', content: { 'application/json': { schema: schemaRef('AnthropicTokenCount') } } }),
    AnthropicErrors([400, 401, 403, 404, 413, 415, 429]),
  );
