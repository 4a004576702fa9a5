/**
 * The console reads the admin API through libs/contracts (console.ts); the API declares the same
 * shapes next to its controllers. These type-level checks make `npm run typecheck` fail as soon
 * as the two drift apart; the test itself only keeps Jest from reporting an empty suite.
 */
import type * as C from '#contracts';
import type { AdminModel, AdminModelList } from '../admin/models-admin.controller.ts';
import type { KeyTestResult, ProviderDetail } from '../admin/providers-admin.controller.ts';
import type { AdminSession } from '../admin/admin-auth.service.ts';
import type { ProviderCheck } from '../health/provider-probe.ts';
import type { KeyView } from '../providers/key-pool.ts';
import type { ProviderHealth, ProviderStatus } from '../providers/provider-registry.service.ts';
import type { BreakerSnapshot } from '../routing/circuit-breaker.ts';

/** true when each type is assignable to the other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

const checks: Record<string, true> = {
  session: true satisfies Same<AdminSession, C.AdminSession>,
  status: true satisfies Same<ProviderStatus, C.ProviderStatus>,
  breaker: true satisfies Same<BreakerSnapshot, C.BreakerSnapshot>,
  key: true satisfies Same<KeyView, C.ProviderKeyView>,
  health: true satisfies Same<ProviderHealth, C.ProviderHealth>,
  check: true satisfies Same<ProviderCheck, C.ProviderCheck>,
  provider: true satisfies Same<ProviderDetail, C.ProviderDetail>,
  keyTest: true satisfies Same<KeyTestResult, C.KeyTestResult>,
  model: true satisfies Same<AdminModel, C.AdminModel>,
  models: true satisfies Same<AdminModelList, C.AdminModelList>,
};

describe('console contracts', () => {
  it('match the API’s own declarations (checked by the type checker)', () => {
    expect(Object.values(checks).every(Boolean)).toBe(true);
  });
});
