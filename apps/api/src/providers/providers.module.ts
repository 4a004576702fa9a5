import { Module } from '@nestjs/common';
import { BUILTIN_PROVIDERS } from './builtin-providers.ts';
import type { ProviderAdapter } from './provider-adapter.ts';
import type { ProviderDeclaration } from './provider-declaration.ts';
import { PROVIDER_ADAPTERS, PROVIDER_DECLARATIONS, ProviderRegistry } from './provider-registry.service.ts';
import { ProviderSettingsService } from './provider-settings.service.ts';
import { QuotaLedger } from './quota-ledger.ts';
import { UpstreamHttp } from './upstream-http.ts';

@Module({
  providers: [
    // The same list config reads its environment from: adding a provider is one line there.
    { provide: PROVIDER_DECLARATIONS, useValue: BUILTIN_PROVIDERS },
    {
      provide: PROVIDER_ADAPTERS,
      useFactory: (declarations: readonly ProviderDeclaration[]) => Promise.all(declarations.map(loadAdapter)),
      inject: [PROVIDER_DECLARATIONS],
    },
    ProviderRegistry,
    ProviderSettingsService,
    QuotaLedger,
    UpstreamHttp,
  ],
  exports: [ProviderRegistry, ProviderSettingsService, QuotaLedger, UpstreamHttp],
})
export class ProvidersModule {}

/** A declaration's adapter, checked: a declaration that loads something else fails the start, naming it. */
export async function loadAdapter(declaration: ProviderDeclaration): Promise<ProviderAdapter> {
  const adapter = (await declaration.adapter()) as Partial<ProviderAdapter> | null;
  if (!adapter || typeof adapter.chat !== 'function' || typeof adapter.name !== 'string') {
    throw new Error(`The provider declaration "${declaration.id}" did not load a provider adapter`);
  }
  return adapter as ProviderAdapter;
}
