/**
 * How the /v1 endpoints (and the console's playground, which answers like /v1/chat/completions and
 * /v1/images/generations) appear in the API document: OpenAI's own request and response schemas, plus the gateway's
 * extensions, which are listed apart (PoolChatExtension, PoolImageExtension).
 */
import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiParam, ApiQuery, ApiResponse } from '@nestjs/swagger';
import { IMAGE_QUALITIES, MAX_IMAGE_SIDE, MIN_IMAGE_SIDE, DEFAULT_IMAGE_MODEL } from '../openai-compat/image-request.dto.ts';
import { MAX_EMBEDDING_INPUTS } from '../openai-compat/embeddings-request.dto.ts';
import { MAX_SPEECH_INPUT } from '../openai-compat/speech-request.dto.ts';
import { SPEECH_CONTENT_TYPES } from '../media/media-bytes.ts';
import { ApiErrors, POOL_RESPONSE_HEADERS, schemaRef } from './decorators.ts';

/** What every upstream-backed /v1 call can fail with; the pooled ones list the attempts. */
const UPSTREAM_ERRORS = () =>
  ApiErrors(
    [400, 401, 403, 404, 413, 415, 429, 502, 504],
    {
      400: '包括：`provider` 不存在或不提供该模型，以及所有上游都以 400 拒绝（此时 `message` 是上游的原话）。',
      401: '仅在启用了密钥（`API_KEY` 或客户端密钥）时出现；客户端密钥已过期时 `code: key_expired`。',
      403: '客户端密钥不允许该模型（`code: model_not_allowed`）或该客户端 IP（`code: ip_not_allowed`）。',
      404: '`model` 不在模型目录中（`code: model_not_found`）。',
      429: '客户端密钥超出每分钟请求数（`code: rate_limit_exceeded`）、并发数（`code: concurrency_limit_exceeded`）或配额（`type` 与 `code` 均为 `insufficient_quota`，`message` 说明哪个配额、何时重置），或所有上游都被限流。',
    },
    [400, 429, 502, 504],
  );

const CHAT_DESCRIPTION = `与 OpenAI 的 \`POST /v1/chat/completions\` 相同：请求体是 OpenAI 的 \`CreateChatCompletionRequest\`，响应是 \`CreateChatCompletionResponse\`；\`stream: true\` 时以 SSE（\`text/event-stream\`）逐块返回 \`CreateChatCompletionStreamResponse\`，最后一行是 \`data: [DONE]\`（\`stream_options.include_usage: true\` 时倒数第二块带 \`usage\`）。

网关在所有提供该模型的提供商之间按优先级与健康度选择，失败（超时、限流、5xx、密钥无效）时自动换下一个；流式请求一旦开始输出就不再切换。

与 OpenAI 的差别：
- **\`provider\`**（扩展字段）：只用指定的提供商，不做故障转移（见 \`PoolChatExtension\`）。
- **\`model\`** 是网关模型目录中的 id（见 \`GET /v1/models\`）。
- **\`n\`** 只能是 1。
- 支持工具调用（\`tools\`）、图片输入（视觉模型）与推理内容（\`reasoning_content\`，部分模型）。其余未知字段原样转发给上游。`;

/** Body and 200 answer of a chat completion (JSON or SSE). */
export const ApiChatCompletion = (): MethodDecorator =>
  applyDecorators(
    ApiBody({
      required: true,
      description: 'OpenAI 的 `CreateChatCompletionRequest`，加上网关扩展字段 `provider`。',
      schema: { allOf: [schemaRef('CreateChatCompletionRequest'), schemaRef('PoolChatExtension')] },
      examples: {
        basic: { summary: '最简单的对话', value: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: '你好，介绍一下你自己。' }] } },
        stream: {
          summary: '流式输出（SSE），最后一块带用量',
          value: {
            model: 'gpt-4o-mini',
            stream: true,
            stream_options: { include_usage: true },
            messages: [{ role: 'user', content: '写一首关于春天的短诗。' }],
          },
        },
        provider: {
          summary: '只用指定的提供商（网关扩展）',
          value: { model: 'gpt-4o-mini', provider: 'PollinationsAI', messages: [{ role: 'user', content: '你好' }] },
        },
      },
    }),
    ApiResponse({
      status: 200,
      description:
        '`stream` 为 false 或未设置时返回一个 `chat.completion` 对象；`stream: true` 时返回 SSE 流，每个事件的 `data` 是一个 `chat.completion.chunk`，以 `data: [DONE]` 结束。',
      headers: POOL_RESPONSE_HEADERS,
      content: {
        'application/json': { schema: schemaRef('CreateChatCompletionResponse') },
        'text/event-stream': { schema: schemaRef('CreateChatCompletionStreamResponse') },
      },
    }),
    UPSTREAM_ERRORS(),
  );

export const ApiChatCompletionOperation = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({ summary: '创建对话补全（OpenAI 兼容，支持流式）', description: CHAT_DESCRIPTION, operationId: 'createChatCompletion' }),
    ApiChatCompletion(),
  );

export const ApiPlaygroundOperation = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: '对话测试（管理台试验场）',
      description: `管理台“对话测试”页使用：请求、响应（包括流式）与 \`POST /v1/chat/completions\` 完全相同，只是用管理员令牌认证，不需要客户端密钥。\n\n${CHAT_DESCRIPTION}`,
      operationId: 'testChatCompletion',
    }),
    ApiChatCompletion(),
  );

const IMAGE_DESCRIPTION = `与 OpenAI 的 \`POST /v1/images/generations\` 相同：请求体是 OpenAI 的 \`CreateImageRequest\`，响应是 \`ImagesResponse\`。

与 OpenAI 的差别：
- **\`model\`** 是网关模型目录中图像类的 id（见 \`GET /v1/models\`）；不填时用 \`${DEFAULT_IMAGE_MODEL}\`。
- **\`size\`**：\`auto\` 或任意 \`宽x高\`，每边 ${MIN_IMAGE_SIDE}～${MAX_IMAGE_SIDE} 像素。
- **\`quality\`**：${IMAGE_QUALITIES.map((q) => `\`${q}\``).join('、')}。
- **\`response_format: "url"\`**（默认）返回的链接由网关自己托管（\`/v1/images/files/…\`，无需密钥，\`IMAGE_URL_TTL_SECONDS\` 后过期）；\`b64_json\` 直接返回 Base64。
- 扩展字段 **\`provider\`**、**\`seed\`**、**\`steps\`**、**\`negative_prompt\`**（见 \`PoolImageExtension\`）。
- 不支持流式（\`stream\`）。`;

/** Body and 200 answer of an image generation. */
export const ApiImageGeneration = (): MethodDecorator =>
  applyDecorators(
    ApiBody({
      required: true,
      description: 'OpenAI 的 `CreateImageRequest`，加上网关扩展字段。',
      schema: { allOf: [schemaRef('CreateImageRequest'), schemaRef('PoolImageExtension')] },
      examples: {
        basic: {
          summary: '生成一张图片（返回网关托管的链接）',
          value: { model: DEFAULT_IMAGE_MODEL, prompt: '雪地里的一只橘猫，柔和的晨光', size: '1024x1024' },
        },
        base64: {
          summary: '直接返回 Base64，固定随机种子',
          value: { model: DEFAULT_IMAGE_MODEL, prompt: '水墨风格的山水画', response_format: 'b64_json', seed: 42 },
        },
      },
    }),
    ApiResponse({
      status: 200,
      description: '生成的图片（`url` 或 `b64_json`）。',
      headers: POOL_RESPONSE_HEADERS,
      content: { 'application/json': { schema: schemaRef('ImagesResponse') } },
    }),
    UPSTREAM_ERRORS(),
    ApiErrors([503], {
      503: '仅在集群模式（`REDIS_URL`）下 `response_format: "url"` 时：图片存储（Redis）已占用 `maxmemory` 的一半（`code: image_store_full`，可改用 `b64_json`），或 Redis 不可用（`code: image_store_unavailable`）。',
    }),
  );

export const ApiImageGenerationOperation = (): MethodDecorator =>
  applyDecorators(ApiOperation({ summary: '生成图片（OpenAI 兼容）', operationId: 'createImage', description: IMAGE_DESCRIPTION }), ApiImageGeneration());

export const ApiImagePlaygroundOperation = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: '图片生成测试（管理台试验场）',
      description: `管理台“在线对话测试”页选择图像模型时使用：请求与响应和 \`POST /v1/images/generations\` 完全相同，只是用管理员令牌认证，不需要客户端密钥。\n\n${IMAGE_DESCRIPTION}`,
      operationId: 'testImageGeneration',
    }),
    ApiImageGeneration(),
  );

export const ApiSpeechOperation = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: '语音合成（OpenAI 兼容）',
      operationId: 'createSpeech',
      description: `与 OpenAI 的 \`POST /v1/audio/speech\` 相同：请求体是 OpenAI 的 \`CreateSpeechRequest\`，响应是音频文件本身，\`Content-Type\` 与 \`response_format\` 对应（${Object.entries(
        SPEECH_CONTENT_TYPES,
      )
        .map(([format, type]) => `\`${format}\` → \`${type}\``)
        .join('、')}；\`pcm\` 为 24 kHz 16 位单声道）。

与 OpenAI 的差别：
- **\`input\`** 最长 ${MAX_SPEECH_INPUT} 个字符。
- **\`stream_format\`** 只能是 \`audio\`（不提供 SSE 语音流）。
- 扩展字段 **\`provider\`**（字符串）：只用指定的提供商，不做故障转移。OpenAI 的 \`CreateSpeechRequest\` 不允许额外字段，所以它没有写进下面的请求体结构，但网关接受它。`,
    }),
    ApiBody({
      required: true,
      description: 'OpenAI 的 `CreateSpeechRequest`（网关另接受 `provider`，见上）。',
      schema: schemaRef('CreateSpeechRequest'),
      examples: { basic: { summary: '合成一段 MP3', value: { model: 'gpt-4o-mini-tts', input: '你好，欢迎使用 GPT4Free Pool。', voice: 'alloy' } } },
    }),
    ApiResponse({
      status: 200,
      description: '音频文件。',
      headers: POOL_RESPONSE_HEADERS,
      content: Object.fromEntries(Object.values(SPEECH_CONTENT_TYPES).map((type) => [type, { schema: { type: 'string', format: 'binary' } }])),
    }),
    UPSTREAM_ERRORS(),
  );

export const ApiListModelsOperation = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: '列出模型（OpenAI 兼容）',
      operationId: 'listModels',
      description:
        '与 OpenAI 的 `GET /v1/models` 相同：返回 `ListModelsResponse`，`owned_by` 是模型的出品方。默认只列出现在能用的模型：至少有一条路由通向已启用、已配置（需要密钥的已有密钥）的提供商，且模型发现没有发现该提供商已下架这个模型（熔断冷却不影响列表）。加 `?all=true` 列出模型目录中的全部模型（对话、推理、代码、视觉、图像、音频），每个模型多两个字段：`available`（现在能否使用）与 `reason`（不能使用的原因，如缺少哪个密钥环境变量；能用时为 `null`）。',
    }),
    ApiQuery({
      name: 'all',
      required: false,
      description: '`true`：列出全部模型，并附上每个模型的 `available` 与 `reason`。默认 `false`：只列出现在能用的模型。',
      schema: { type: 'boolean', default: false },
    }),
    ApiResponse({ status: 200, description: '模型列表。', content: { 'application/json': { schema: schemaRef('ListModelsResponse') } } }),
    ApiErrors([400, 401, 403, 429], { 400: '`all` 既不是 `true` 也不是 `false`。', 401: '仅在启用了密钥时出现。', 429: '客户端密钥超出每分钟请求数。' }),
  );

export const ApiRetrieveModelOperation = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: '查询单个模型（OpenAI 兼容）',
      operationId: 'retrieveModel',
      description:
        '与 OpenAI 的 `GET /v1/models/{model}` 相同：返回 `Model`。模型 id 可以含 `/`（如自定义上游的 `org/model`），直接写在路径里即可（`/v1/models/org/model`），也可以写成 `%2F`。',
    }),
    ApiParam({ name: 'id', description: '模型 id（见 `GET /v1/models`），如 `gpt-4o-mini`。', schema: { type: 'string' } }),
    ApiResponse({ status: 200, description: '模型。', content: { 'application/json': { schema: schemaRef('Model') } } }),
    ApiErrors([401, 403, 404, 429], { 401: '仅在启用了密钥时出现。', 404: '模型不存在（`code: model_not_found`）。', 429: '客户端密钥超出每分钟请求数。' }),
  );

const RESPONSES_DESCRIPTION = `与 OpenAI 的 \`POST /v1/responses\`（Responses API）相同，跑在与对话补全同一个故障转移核心上：\`stream: true\` 时以 SSE 返回带 \`event:\` 行的类型化事件（\`response.created\`、\`response.in_progress\`、\`response.output_item.added\`、\`response.content_part.added\`、\`response.output_text.delta\` … \`response.completed\`），每个事件带 \`sequence_number\`，不以 \`[DONE]\` 结束。

- **\`input\`**：字符串，或消息项（文本、图片）、\`function_call\`、\`function_call_output\`、\`item_reference\` 组成的数组；**\`instructions\`** 作为系统消息，不会随 \`previous_response_id\` 带到下一轮。
- **\`tools\`** 只支持函数工具；网页搜索、文件搜索、电脑操作等托管工具返回 400，\`param\` 指出是哪一个。
- **\`text.format\`**：\`json_schema\` 或 \`json_object\`；**\`max_output_tokens\`** 用尽时 \`status: "incomplete"\`，\`incomplete_details.reason: "max_output_tokens"\`。
- **\`store\`**（默认 true）：回答保存 \`RESPONSES_TTL_SECONDS\`（默认 30 天），可用 \`GET /v1/responses/{response_id}\` 取回、\`DELETE\` 删除、\`previous_response_id\` 续接对话；只有创建它的客户端密钥能读到。\`store: false\` 什么都不保存。
- 扩展字段 **\`provider\`**：只用指定的提供商，不做故障转移。
- 开始输出之前失败：OpenAI 格式的错误与状态码（流式请求也一样）；开始输出之后失败：\`response.failed\` 事件，绝不拼接两个提供商的文字。`;

export const ApiCreateResponseOperation = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({ summary: '创建回答（OpenAI Responses API，支持流式）', description: RESPONSES_DESCRIPTION, operationId: 'createResponse' }),
    ApiBody({
      required: true,
      description: 'OpenAI 的 `CreateResponse`，加上网关扩展字段 `provider`。',
      schema: { allOf: [schemaRef('CreateResponse'), schemaRef('PoolChatExtension')] },
      examples: {
        basic: { summary: '最简单的一问一答', value: { model: 'gpt-4o-mini', input: '你好，介绍一下你自己。' } },
        stream: {
          summary: '流式输出（SSE 类型化事件）',
          value: { model: 'gpt-4o-mini', stream: true, instructions: '用中文回答。', input: '写一首关于春天的短诗。' },
        },
      },
    }),
    ApiResponse({
      status: 200,
      description: '`stream` 为 false 或未设置时返回一个 `response` 对象；`stream: true` 时返回 SSE 类型化事件流。',
      headers: POOL_RESPONSE_HEADERS,
      content: {
        'application/json': { schema: schemaRef('Response') },
        'text/event-stream': { schema: schemaRef('ResponseStreamEvent') },
      },
    }),
    UPSTREAM_ERRORS(),
  );

const RESPONSE_ID = ApiParam({ name: 'response_id', description: '回答的 id（`resp_…`）。', schema: { type: 'string' } });

export const ApiRetrieveResponseOperation = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: '取回已保存的回答（OpenAI Responses API）',
      operationId: 'getResponse',
      description:
        '与 OpenAI 的 `GET /v1/responses/{response_id}` 相同：返回 `store` 为 true（默认）时保存的 `response` 对象。过期、已删除、`store: false` 或属于另一个客户端密钥的回答都是 404。',
    }),
    RESPONSE_ID,
    ApiResponse({ status: 200, description: '保存的回答。', content: { 'application/json': { schema: schemaRef('Response') } } }),
    ApiErrors([401, 403, 404, 429], { 404: '没有这个回答（`code: response_not_found`）。' }),
  );

export const ApiListInputItemsOperation = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: '列出已保存回答的输入项（OpenAI Responses API）',
      operationId: 'listInputItems',
      description:
        '与 OpenAI 的 `GET /v1/responses/{response_id}/input_items` 相同：这次请求的 `input`（每项带 id），默认从新到旧；`limit`（1–100，默认 20）、`order`（`asc` / `desc`）、`after`（项 id）分页。',
    }),
    RESPONSE_ID,
    ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } }),
    ApiQuery({ name: 'order', required: false, schema: { type: 'string', enum: ['asc', 'desc'], default: 'desc' } }),
    ApiQuery({ name: 'after', required: false, schema: { type: 'string' }, description: '从这个项 id 之后开始。' }),
    ApiResponse({ status: 200, description: '输入项列表。', content: { 'application/json': { schema: schemaRef('ResponseItemList') } } }),
    ApiErrors([400, 401, 403, 404, 429], { 404: '没有这个回答（`code: response_not_found`）。' }),
  );

export const ApiDeleteResponseOperation = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: '删除已保存的回答（OpenAI Responses API）',
      operationId: 'deleteResponse',
      description: '与 OpenAI 的 `DELETE /v1/responses/{response_id}` 相同：返回 `{id, object: "response.deleted", deleted: true}`。',
    }),
    RESPONSE_ID,
    ApiResponse({
      status: 200,
      description: '已删除。',
      content: {
        'application/json': {
          schema: {
            type: 'object',
            properties: { id: { type: 'string' }, object: { type: 'string', enum: ['response.deleted'] }, deleted: { type: 'boolean', enum: [true] } },
          },
        },
      },
    }),
    ApiErrors([401, 403, 404, 429], { 404: '没有这个回答（`code: response_not_found`）。' }),
  );

const EMBEDDINGS_DESCRIPTION = `与 OpenAI 的 \`POST /v1/embeddings\` 相同：请求体是 OpenAI 的 \`CreateEmbeddingRequest\`，响应是 \`CreateEmbeddingResponse\`（\`model\` 为请求中的模型 id，\`usage\` 来自上游，上游不报时由网关计数）。

与 OpenAI 的差别：
- **\`input\`**：字符串、字符串数组（最多 ${MAX_EMBEDDING_INPUTS} 条），或 token 数组（只有能接收 token 的路由，例如自定义 OpenAI 兼容上游；没有这样的路由时 400，\`param\` 为 \`input\`）。超过上游单次上限的批量会拆成多次调用，按顺序合并，同一请求的向量都来自同一个提供商。
- **\`encoding_format\`**：\`float\`（默认）或 \`base64\`（小端 float32，与 OpenAI 相同）。
- **\`dimensions\`**：只发往支持它的路由（DeepInfra、自定义上游）；没有这样的路由，或大于模型的维度时 400，\`param\` 为 \`dimensions\`。
- 每个向量的维度和数量都会检查：不对就算这次尝试失败，换下一个提供商。
- 扩展字段 **\`provider\`**（字符串）：只用指定的提供商，不做故障转移。`;

/** Body and 200 answer of an embeddings request. */
const ApiEmbeddings = (): MethodDecorator =>
  applyDecorators(
    ApiBody({
      required: true,
      description: 'OpenAI 的 `CreateEmbeddingRequest`（网关另接受 `provider`，见上）。',
      schema: schemaRef('CreateEmbeddingRequest'),
      examples: { basic: { summary: '两段文本', value: { model: 'bge-m3', input: ['你好，世界', 'Hello, world'] } } },
    }),
    ApiResponse({
      status: 200,
      description: '向量列表。',
      headers: POOL_RESPONSE_HEADERS,
      content: { 'application/json': { schema: schemaRef('CreateEmbeddingResponse') } },
    }),
    UPSTREAM_ERRORS(),
  );

export const ApiEmbeddingsOperation = (): MethodDecorator =>
  applyDecorators(ApiOperation({ summary: '文本嵌入（OpenAI 兼容）', operationId: 'createEmbedding', description: EMBEDDINGS_DESCRIPTION }), ApiEmbeddings());

export const ApiEmbeddingsPlaygroundOperation = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: '嵌入测试（管理台试验场）',
      description: `管理台“在线对话测试”页的“嵌入”标签使用：请求与响应和 \`POST /v1/embeddings\` 完全相同，只是用管理员令牌认证，不需要客户端密钥。\n\n${EMBEDDINGS_DESCRIPTION}`,
      operationId: 'testEmbedding',
    }),
    ApiEmbeddings(),
  );

const TRANSCRIPTION_DESCRIPTION = `与 OpenAI 的 \`POST /v1/audio/transcriptions\` 相同：\`multipart/form-data\`，字段 \`file\`（flac、m4a、mp3、ogg、wav、webm，按文件头识别）、\`model\`、\`language\`、\`prompt\`、\`temperature\`、\`response_format\`。

与 OpenAI 的差别：
- 文件大小上限由 \`TRANSCRIPTION_MAX_BYTES\` 设置（默认 25 MB），超过时 413。
- 同时接收的上传数由 \`TRANSCRIPTION_MAX_CONCURRENT\` 限制（默认 4，每个上传都在内存中），再多一个时 429（\`code: too_many_uploads\`，\`Retry-After: 1\`），文件不会被读取。
- **\`response_format\`**：\`json\`（默认）、\`text\`、\`verbose_json\`（上游给出分段时带 \`segments\`）、\`srt\`、\`vtt\`。\`srt\` / \`vtt\` 只发往能给出带时间分段的路由（DeepInfra、CloudflareAI）；没有这样的路由时 400，\`param\` 为 \`response_format\`。不提供流式（\`stream\`）。
- 扩展字段 **\`provider\`**（表单字段）：只用指定的提供商，不做故障转移。`;

/** Form body and 200 answer of a transcription. */
const ApiTranscription = (): MethodDecorator =>
  applyDecorators(
    ApiConsumes('multipart/form-data'),
    ApiBody({
      required: true,
      description: 'OpenAI 的 `CreateTranscriptionRequest`（网关另接受 `provider`，见上）。',
      schema: schemaRef('CreateTranscriptionRequest'),
    }),
    ApiResponse({
      status: 200,
      description: '`json` / `verbose_json` 为 JSON；`text`、`srt` 为纯文本，`vtt` 为 `text/vtt`。',
      headers: POOL_RESPONSE_HEADERS,
      content: {
        'application/json': {
          schema: {
            oneOf: [
              schemaRef('CreateTranscriptionResponseJson'),
              schemaRef('CreateTranscriptionResponseDiarizedJson'),
              schemaRef('CreateTranscriptionResponseVerboseJson'),
            ],
          },
        },
        'text/plain': { schema: { type: 'string' } },
        'text/vtt': { schema: { type: 'string' } },
      },
    }),
    UPSTREAM_ERRORS(),
  );

export const ApiTranscriptionOperation = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({ summary: '语音识别（OpenAI 兼容）', operationId: 'createTranscription', description: TRANSCRIPTION_DESCRIPTION }),
    ApiTranscription(),
  );

export const ApiTranscriptionPlaygroundOperation = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: '语音识别测试（管理台试验场）',
      description: `管理台“在线对话测试”页的“语音识别”标签使用：请求（\`multipart/form-data\`）与响应和 \`POST /v1/audio/transcriptions\` 完全相同，只是用管理员令牌认证，不需要客户端密钥。\n\n${TRANSCRIPTION_DESCRIPTION}`,
      operationId: 'testTranscription',
    }),
    ApiTranscription(),
  );
