/**
 * The console writes to the admin API with the request bodies of libs/contracts; the API validates
 * them with its own DTO classes (class-validator needs classes). Each DTO `implements` its contract,
 * which checks the fields the DTO has; these type-level checks also catch a field one side has and
 * the other lacks, so `npm run typecheck` fails as soon as the two drift apart. The answers need no
 * check: the API returns the contract types themselves. The test only keeps Jest from reporting an
 * empty suite.
 */
import type * as C from '#contracts';
import type { CreateClientKeyDto, UpdateClientKeyDto } from '../client-keys/client-keys.controller.ts';
import type { AddKeyDto, UpdateProviderDto, UpstreamDto, UpstreamTestDto, UpstreamTrialDto } from '../admin/providers-admin.dto.ts';
import type { SetRoutingDto } from '../admin/routing-admin.controller.ts';
import type { ProviderOverride } from '../providers/provider-registry.service.ts';

/** true when each type is assignable to the other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** true when both name the same fields (optional or not). */
type SameFields<A, B> = Same<keyof A, keyof B>;
/** true when both name the same fields, and each field is optional in both or required in both. */
type SameShape<A, B> = [Same<Required<A>, Required<B>>, SameFields<A, B>, Same<OptionalKeys<A>, OptionalKeys<B>>] extends [true, true, true] ? true : false;
type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];

const checks: Record<string, true> = {
  updateProvider: true satisfies SameShape<UpdateProviderDto, C.UpdateProviderRequest>,
  // What the settings service stores is what the console sends, but the key (stored sealed, on its own).
  providerOverride: true satisfies SameShape<ProviderOverride, Omit<C.UpdateProviderRequest, 'key'>>,
  addKey: true satisfies SameShape<AddKeyDto, C.AddProviderKeyRequest>,
  upstream: true satisfies SameShape<UpstreamDto, C.UpstreamRequest>,
  upstreamTrial: true satisfies SameShape<UpstreamTrialDto, C.UpstreamTrialRequest>,
  upstreamTest: true satisfies SameShape<UpstreamTestDto, C.UpstreamTestRequest>,
  setRouting: true satisfies SameShape<SetRoutingDto, C.SetRoutingRequest>,
  createClientKey: true satisfies SameShape<CreateClientKeyDto, C.CreateClientKeyRequest>,
  updateClientKey: true satisfies SameShape<UpdateClientKeyDto, C.UpdateClientKeyRequest>,
};

describe('console contracts', () => {
  it('request bodies match the API’s DTOs (checked by the type checker)', () => {
    expect(Object.values(checks).every(Boolean)).toBe(true);
  });
});
