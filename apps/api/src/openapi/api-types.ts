/**
 * The answers of the gateway's own endpoints (`/api`, `/health`), by the name they have in the
 * API document. scripts/api-schemas.ts turns each member of ApiSchemas into a component schema
 * (apps/api/src/openapi/api-schemas.json; a test keeps that file in step with these types), with the
 * member's comment as its Chinese description. `@ApiJsonResponse(name)` documents an answer with
 * one of them, and only compiles on a handler whose return type is exactly that type.
 */
import type {
  AdminModel,
  AdminModelList,
  AdminSession,
  AdminSessionInfo,
  ApiAccess,
  AttemptSummary,
  BillingSubscription,
  BillingUsage,
  ClientKey,
  ClientKeyInfo,
  ClientKeyList,
  CreatedClientKey,
  DiscoveryRefreshResult,
  KeyTestResult,
  ModelAliasList,
  AutoModelList,
  DiscoveryAutoAddList,
  ModelDiscovery,
  PlaygroundLimits,
  ProviderDetail,
  ProviderCheck,
  ProviderCheckAll,
  ProviderCondition,
  ProviderQuotaList,
  ProviderStatus,
  RequestLogPage,
  RoutingSettings,
  CacheSettings,
  StatsResponse,
  StatsBreakdownResponse,
  KeyUsageResponse,
  UpstreamModelsResult,
  UpstreamTestResult,
  ModelRouting,
  ModelRoutingList,
  ProviderModelStats,
} from '#contracts';
import type { HealthCheckResult } from '../storage/storage.ts';

export interface ProviderHealthView {
  name: string;
  /** Routing status: available, disabled, unconfigured or cooling-down. */
  status: ProviderStatus;
  reason: string | null;
  /** The last check's verdict; null before the first check. */
  healthy: boolean | null;
  lastCheck: ProviderCheck | null;
  /** Live traffic and the last check together: 正常 / 降级 / 异常 / 未知. */
  condition: ProviderCondition;
}

/** `GET /api/health/providers`. */
export interface ProviderHealthList {
  providers: ProviderHealthView[];
}

/** `GET /api/health/history/{provider}`: stored checks, newest first. */
export interface ProviderHealthHistory {
  provider: string;
  items: HealthCheckResult[];
}

/** One health indicator (storage, providers, app, process) and what it reports. */
export interface HealthIndicatorReport {
  status: 'up' | 'degraded' | 'down';
  [detail: string]: unknown;
}

/** `/health`, `/health/live`, `/health/ready`: the shape Nest's Terminus module gives health checks. */
export interface HealthReport {
  status: 'error' | 'ok' | 'degraded' | 'shutting_down';
  /** Indicators that are up or degraded. */
  info?: Partial<Record<string, HealthIndicatorReport>>;
  /** Indicators that are down. */
  error?: Partial<Record<string, HealthIndicatorReport>>;
  /** Every indicator. */
  details: Record<string, HealthIndicatorReport>;
}

export interface ApiSchemas {
  /** 管理员会话：登录后得到的令牌及其过期时间（毫秒时间戳）。 */
  AdminSession: AdminSession;
  /** 当前管理员会话的过期时间。 */
  AdminSessionInfo: AdminSessionInfo;
  /** `/v1` 的开放方式：`key` 需要密钥（`API_KEY` 或客户端密钥）；`open` 无需密钥、对所有人开放（`ALLOW_OPEN_API=true`）；`local` 无需密钥、只回应本机客户端。 */
  ApiAccess: ApiAccess;
  /** 模型目录（管理台视图）：分类统计、每个模型的路由及其发现状态。 */
  AdminModelList: AdminModelList;
  /** 单个模型（管理台视图）：路由、每条路由的发现状态与是否可路由。 */
  AdminModel: AdminModel;
  /** 路由策略：生效中的（`random` 按“健康分 × 权重”加权随机、`priority` 按优先级、`latency` 按延迟）、来源（`console` 或 `config`）与 `ROUTING_STRATEGY` 的默认值。 */
  RoutingSettings: RoutingSettings;
  /** 响应缓存：是否开启及来源（`console` 或 `config`）、有效期与容量上限、强制缓存的模型、当前条目与字节数、命中省下的请求与 token。 */
  CacheSettings: CacheSettings;
  /** 一个模型的路由：按它自己的顺序列出各条路由（生效的权重、提供商自己的权重与优先级）、强制的提供商与生效中的路由策略。 */
  ModelRouting: ModelRouting;
  /** 有按模型路由设置（顺序、权重或强制）的模型。 */
  ModelRoutingList: ModelRoutingList;
  /** 模型别名：生效中的（最具体的在前）、默认的（`MODEL_ALIASES` 与 `CATALOG_FILE`），以及生效的来源（`config` 或 `console`）。 */
  ModelAliasList: ModelAliasList;
  /** 虚拟模型（`auto` 等）：生效中的、默认的（内置的与 `CATALOG_FILE` 的 `auto_models:`），以及生效的来源（`config` 或 `console`）。 */
  AutoModelList: AutoModelList;
  /** 每个提供商是否自动添加模型列表中有、目录中没有的模型，设置来源（`config` 或 `console`），以及加入的数量。 */
  DiscoveryAutoAddList: DiscoveryAutoAddList;
  /** 每个提供商一次模型列表刷新的结果。 */
  DiscoveryRefreshResultList: DiscoveryRefreshResult[];
  /** 一个模型的各条路由及其发现状态。 */
  ModelDiscovery: ModelDiscovery;
  /** 所有提供商（内置与自定义上游）。 */
  ProviderDetailList: ProviderDetail[];
  /** 提供商详情：状态、熔断器、密钥（掩码）、健康度、最近一次检查。 */
  ProviderDetail: ProviderDetail;
  /** 测试单个上游密钥的结果。 */
  KeyTestResult: KeyTestResult;
  /** 自定义上游的模型列表（读取模型列表），或读取失败的原因。 */
  UpstreamModelsResult: UpstreamModelsResult;
  /** 自定义上游每个密钥的一次 1 token 对话的结果。 */
  UpstreamTestResult: UpstreamTestResult;
  /** 客户端 API 密钥列表（新建的在前）。 */
  ClientKeyList: ClientKeyList;
  /** 客户端 API 密钥（不含明文密钥）。 */
  ClientKey: ClientKey;
  /** 新建的客户端 API 密钥：只有这一次返回完整的 `secret`。 */
  CreatedClientKey: CreatedClientKey;
  /** 客户端密钥持有者用自己的密钥看到的信息：限额、各配额的已用量、剩余量与重置时间。 */
  ClientKeyInfo: ClientKeyInfo;
  /** 与 one-api 相同形状的订阅信息（ChatBox、NextChat 用来显示余额）；金额单位是 token。 */
  BillingSubscription: BillingSubscription;
  /** 与 one-api 相同形状的用量：同一配额已用的 token 数 × 100。 */
  BillingUsage: BillingUsage;
  /** 统计报表：汇总、时间序列及按提供商 / 模型 / 密钥的细分。 */
  StatsResponse: StatsResponse;
  /** 请求日志的一页（新的在前），每条记录含全部上游尝试。 */
  RequestLogPage: RequestLogPage;
  /** 按提供商 / 模型 / 客户端密钥细分的用量：前几个值各自的汇总，其余合计。 */
  StatsBreakdownResponse: StatsBreakdownResponse;
  /** 单个客户端密钥在一段时间内的用量：汇总与按时间桶的序列。 */
  KeyUsageResponse: KeyUsageResponse;
  /** 单个提供商在一段时间内对每个模型的上游尝试：请求数、成功率、延迟，尝试最多的在前。 */
  ProviderModelStats: ProviderModelStats;
  /** 立即检查所有提供商的结果。 */
  ProviderCheckAll: ProviderCheckAll;
  /** 每个提供商的路由状态与最近一次健康检查。 */
  ProviderHealthList: ProviderHealthList;
  /** 每个提供商的免费额度：生效的限额（文档、`QUOTA_LIMITS`、管理台）、各密钥与合计的已用 / 剩余 / 重置时间、休息中的密钥。 */
  ProviderQuotaList: ProviderQuotaList;
  /** 一个提供商保存的健康检查记录（新的在前）。 */
  ProviderHealthHistory: ProviderHealthHistory;
  /** 健康检查结果（Nest Terminus 格式）。 */
  HealthReport: HealthReport;
  /** 一次上游尝试：提供商、上游模型、密钥（掩码）、状态码、原因与耗时。 */
  AttemptSummary: AttemptSummary;
  /** 在线对话测试发送前检查的上限：语音识别上传文件的最大字节数（`TRANSCRIPTION_MAX_BYTES`）、一次嵌入请求最多的输入条数。 */
  PlaygroundLimits: PlaygroundLimits;
}
