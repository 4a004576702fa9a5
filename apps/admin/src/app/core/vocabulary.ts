/**
 * The console's two health numbers, defined once: every page names them with these words and
 * shows these definitions in their tooltips, so the same word is always the same number.
 */
export const HEALTH_SCORE = {
  label: '健康分',
  /** The routing weight: ProviderHealth.successScore. */
  definition:
    '健康分：最近请求的加权成功分（0–100%，越近的请求权重越大，每次成功或失败都会立即影响它）。路由策略为“按健康度加权随机”时，它与提供商的权重相乘，决定被先尝试的机会。',
} as const;

export const SUCCESS_RATE = {
  label: '成功率',
  /** Successful / total requests in the range shown (for a provider: the attempts sent to it). */
  definition: '成功率：所选时间范围内成功的请求数 ÷ 请求总数；某个提供商的成功率只算发给它的上游请求（被跳过、被中止的不计）。',
} as const;

/** 提供商管理 has no range: its 成功率 counts since the gateway started. */
export const SUCCESS_RATE_SINCE_START = SUCCESS_RATE.definition.replace('所选时间范围内', '自网关启动以来');
