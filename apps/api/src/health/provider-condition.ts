import type { ProviderCheck, ProviderCondition } from '#contracts';
import type { ProviderState } from '../providers/provider-registry.service.ts';

/** Live failures in a row that make a provider 异常, whatever its checks say. */
export const FAILING_AFTER = 3;
/** With at least DEGRADED_MIN_ATTEMPTS recent attempts, this share failing makes it 降级. */
export const DEGRADED_SHARE = 0.25;
export const DEGRADED_MIN_ATTEMPTS = 4;

/**
 * A provider's condition from live traffic and its last check together, newest evidence first:
 * live requests failing in a row (unless a chat probe succeeded after them) or an open breaker
 * make it failing; a failed check newer than the last live success too; a share of recent
 * failures makes it degraded. A model-list read alone never outweighs failing live chats.
 */
export function providerCondition(provider: ProviderState, lastCheck: ProviderCheck | null, now = Date.now()): ProviderCondition {
  const live = provider.live(now);
  const none = { status: null, reason: null, at: null };
  const { status } = provider.status();
  if (status === 'disabled' || status === 'unconfigured') return { state: 'unknown', source: null, ...none, live };
  const check = lastCheck && !lastCheck.inconclusive ? lastCheck : null;
  const failure = live.lastFailure;
  const chatProbeAfter = failure !== null && check?.ok === true && check.probe === 'chat' && check.checkedAt > failure.at;
  if (failure && live.consecutiveFailures >= FAILING_AFTER && !chatProbeAfter) {
    return { state: 'failing', source: 'live', status: failure.status, reason: failure.reason, at: failure.at, live };
  }
  if (status === 'cooling-down') {
    const snapshot = provider.breaker.snapshot();
    const reason = snapshot.openUntil !== null ? (snapshot.lastFailure ?? provider.status().reason) : provider.status().reason;
    return { state: 'failing', source: 'breaker', status: failure?.status ?? null, reason, at: failure?.at ?? null, live };
  }
  if (check && !check.ok && check.checkedAt > (live.lastSuccessAt ?? 0)) {
    return { state: 'failing', source: 'check', status: null, reason: check.error, at: check.checkedAt, live };
  }
  if (failure && !chatProbeAfter && live.recent >= DEGRADED_MIN_ATTEMPTS && live.failed / live.recent >= DEGRADED_SHARE) {
    return { state: 'degraded', source: 'live', status: failure.status, reason: failure.reason, at: failure.at, live };
  }
  if (live.recent > 0 || check) return { state: 'healthy', source: live.recent > 0 ? 'live' : 'check', ...none, live };
  return { state: 'unknown', source: null, ...none, live };
}
