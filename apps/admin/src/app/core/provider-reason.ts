/** The API's reasons for a provider's status are English (they are also logged); the console says them in Chinese. */

/** The API's reason in the console's words; a reason it does not know is shown as it is. */
export function reasonText(reason: string | null): string | null {
  if (!reason) return null;
  if (reason === 'disabled by the operator') return '已在控制台停用';
  if (reason === 'every key is cooling down or invalid') return '所有密钥都在冷却或已失效';
  let m = /^needs an API key \((.+)\)$/.exec(reason);
  if (m) return `缺少 API 密钥（${m[1]}）`;
  m = /^needs (.+)$/.exec(reason);
  if (m) return `缺少设置：${m[1]}`;
  m = /^cooling down after failures:?\s*(.*)$/.exec(reason);
  if (m) return m[1] ? `连续失败，冷却中：${m[1]}` : '连续失败，冷却中';
  return reason;
}
