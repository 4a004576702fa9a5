/**
 * The API document: Swagger UI at /docs, the OpenAPI 3.1 document at /docs-json (and
 * /docs-yaml). Both public. Swagger UI's files come from the swagger-ui-dist package and are
 * served by the gateway itself: nothing the page loads comes from another host.
 *
 * The /v1 schemas are OpenAI's own, vendored verbatim into openai-schemas.json by
 * scripts/openai-schemas.ts; the schemas of the gateway's own answers are generated from its
 * TypeScript types into api-schemas.json by scripts/api-schemas.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ANTHROPIC_SCHEMAS } from './anthropic-docs.ts';
import apiSchemas from './api-schemas.json' with { type: 'json' };
import openaiSchemas from './openai-schemas.json' with { type: 'json' };
import { DOC_TAG_DESCRIPTIONS, SECURITY, schemaRef } from './decorators.ts';

type Schemas = NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>;
type Headers = NonNullable<NonNullable<OpenAPIObject['components']>['headers']>;

/** Where the UI lives; the JSON is at `${DOCS_PATH}-json`. */
export const DOCS_PATH = '/docs';
export const DOCS_TITLE = 'GPT4Free Pool API 文档';

const DESCRIPTION = `GPT4Free Pool 是自托管的 OpenAI 兼容网关：把多个免费 AI 推理提供商汇成一个池，按优先级与健康度路由，失败时自动切换到下一个提供商。

- **\`/v1\`**：OpenAI 兼容接口，可直接用 OpenAI 官方 SDK（\`baseURL\` 设为 \`http://<网关地址>/v1\`）。请求与响应的格式就是 OpenAI 官方 OpenAPI 规范中的格式（本文档中的 \`/v1\` 组件即取自官方规范 ${openaiSchemas.source.version} 版，原样保留英文说明）；网关的扩展字段（如 \`provider\`）在各接口中单独说明。
- **\`/api\`**：管理接口（管理台使用），需要管理员会话令牌：先 \`POST /api/auth/login\`，再以 \`Authorization: Bearer <token>\` 访问。
- **\`/health\`、\`/metrics\`**：公开的健康检查与 Prometheus 指标。

**认证**：只有在设置了环境变量 \`API_KEY\` 或在管理台创建过客户端密钥时，\`/v1\` 才需要密钥；否则 \`/v1\` 开放访问。点击右侧 “Authorize” 填入密钥或管理员令牌即可在本页直接调用。

**错误**：所有错误都是 OpenAI 的格式 \`{"error": {"message", "type", "param", "code"}}\`（\`/v1/messages\` 下是 Anthropic 的格式 \`{"type": "error", "error": {"type", "message"}}\`）；所有提供商都失败时，\`error.attempts\` 列出每一次尝试。

**响应头**：每个响应都带 \`x-request-id\`（请求时可自带）；\`/v1\` 的成功响应带 \`x-pool-provider\`、\`x-pool-upstream-model\`，说明由哪个提供商、哪个上游模型完成。`;

/** The gateway's version, from its package.json (found by walking up: works from src and from dist). */
function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'gpt4free-pool' && pkg.version) return pkg.version;
    }
    if (dirname(dir) === dir) return '0.0.0';
  }
}

/** Response headers, referenced by the operations. */
const HEADERS: Headers = {
  'x-request-id': {
    description: '请求 id：请求中带了合法的 `x-request-id`（1～128 个字母、数字或 `._:-`）就原样返回，否则由网关生成（`req_…`）。请求日志以它为准。',
    schema: { type: 'string' },
  },
  'x-pool-provider': {
    description: '完成本次请求的提供商（如 `DeepInfra`）；图片请求中途切换过提供商时，按顺序以逗号分隔列出。',
    schema: { type: 'string' },
  },
  'x-pool-upstream-model': {
    description: '提供商那边的模型 id（与 `x-pool-provider` 一一对应）。',
    schema: { type: 'string' },
  },
  'retry-after': {
    description: '建议多少秒后重试。',
    schema: { type: 'string' },
  },
};

/** The gateway's additions to OpenAI's request bodies and error envelope. */
const EXTENSIONS: Schemas = {
  PoolChatExtension: {
    type: 'object',
    description: '网关扩展字段（OpenAI 没有）。',
    properties: {
      provider: {
        type: 'string',
        minLength: 1,
        description:
          '只用这个提供商（名字不区分大小写，如 `DeepInfra`、`PollinationsAI`，或自定义上游的名字），不做故障转移。不填时按优先级与健康度自动选择，失败时切换到下一个。',
      },
    },
  },
  PoolImageExtension: {
    type: 'object',
    description: '网关扩展字段（OpenAI 没有），供开源图像模型使用。',
    properties: {
      provider: { type: 'string', minLength: 1, description: '只用这个提供商（名字不区分大小写），不做故障转移。' },
      seed: { type: 'integer', minimum: 0, description: '随机种子：相同的种子与提示词生成相同的图片（提供商支持时）。' },
      steps: { type: 'integer', minimum: 1, maximum: 100, description: '推理步数（提供商支持时）。' },
      negative_prompt: { type: 'string', description: '反向提示词：不希望出现在图片里的内容（提供商支持时）。' },
    },
  },
  PoolErrorResponse: {
    description: 'OpenAI 格式的错误；请求经过上游时，`error.attempts` 列出每一次尝试（网关扩展）。',
    allOf: [
      schemaRef('ErrorResponse'),
      {
        type: 'object',
        properties: {
          error: {
            type: 'object',
            properties: { attempts: { type: 'array', items: schemaRef('AttemptSummary'), description: '每一次上游尝试，按顺序。' } },
          },
        },
      },
    ],
  },
};

/** Puts `x-request-id` on every answer: every request passes the request-id middleware. */
function addRequestIdHeader(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const) {
      const operation = item[method];
      if (!operation) continue;
      for (const response of Object.values(operation.responses)) {
        if (!response || '$ref' in response) continue;
        response.headers = { 'x-request-id': { $ref: '#/components/headers/x-request-id' }, ...response.headers };
      }
    }
  }
}

/** Builds the document from the controllers' decorators and the two schema files. */
export function createApiDocument(app: NestExpressApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle(DOCS_TITLE)
    .setDescription(DESCRIPTION)
    .setVersion(packageVersion())
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'session token',
        description:
          '管理员会话令牌：用管理员密码调用 `POST /api/auth/login` 得到 `token`，以 `Authorization: Bearer <token>` 发送。除登录外所有 `/api` 接口都需要。',
      },
      SECURITY.admin,
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'API key',
        description:
          '访问 `/v1` 的密钥：环境变量 `API_KEY` 中的任一密钥，或在管理台创建的客户端密钥（`sk-g4f-…`），以 `Authorization: Bearer <密钥>` 发送。**仅当设置了 `API_KEY` 或创建过客户端密钥时才需要**，否则 `/v1` 开放访问。',
      },
      SECURITY.clientKey,
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'x-api-key',
        description: '与 `client-key` 相同的密钥，改用 `x-api-key` 请求头发送（不带 `Bearer`）。同样仅在启用了密钥时需要。',
      },
      SECURITY.clientKeyHeader,
    );
  for (const [name, description] of Object.entries(DOC_TAG_DESCRIPTIONS)) builder.addTag(name, description);

  const document = SwaggerModule.createDocument(app, builder.build(), { autoTagControllers: false });
  // Added after createDocument, which would rewrite OpenAPI 3.0 leftovers (`nullable`) in them:
  // OpenAI's schemas stay exactly as OpenAI publishes them.
  const own: Schemas = { ...apiSchemas.schemas, ...EXTENSIONS, ...ANTHROPIC_SCHEMAS };
  for (const name of Object.keys(own)) {
    if (name in openaiSchemas.schemas) throw new Error(`API document: schema ${name} is both OpenAI's and the gateway's`);
  }
  const scanned = document.components?.schemas ?? {};
  document.components = {
    ...document.components,
    schemas: { ...scanned, ...(openaiSchemas.schemas as Schemas), ...own },
    headers: { ...document.components?.headers, ...HEADERS },
  };
  addRequestIdHeader(document);
  return document;
}

export function setupApiDocs(app: NestExpressApplication): void {
  SwaggerModule.setup(DOCS_PATH.slice(1), app, () => createApiDocument(app), {
    customSiteTitle: DOCS_TITLE,
    jsonDocumentUrl: `${DOCS_PATH}-json`,
    yamlDocumentUrl: `${DOCS_PATH}-yaml`,
    swaggerOptions: {
      // Swagger UI would otherwise send the document to validator.swagger.io for a badge.
      validatorUrl: null,
      persistAuthorization: true,
      displayRequestDuration: true,
      docExpansion: 'list',
      defaultModelsExpandDepth: 0,
      filter: true,
      tryItOutEnabled: false,
    },
  });
}
