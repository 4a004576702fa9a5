import { Module } from '@nestjs/common';
import { BUILTIN_PROVIDERS } from './builtin-providers.ts';
import type { ProviderDeclaration } from './provider-declaration.ts';
import { PROVIDER_ADAPTERS, PROVIDER_DECLARATIONS, ProviderRegistry } from './provider-registry.service.ts';
import { ProviderSettingsService } from './provider-settings.service.ts';
import { UpstreamHttp } from './upstream-http.ts';

@Module({
  providers: [
    // The same list config reads its environment from: adding a provider is one line there.
    { provide: PROVIDER_DECLARATIONS, useValue: BUILTIN_PROVIDERS },
    {
      provide: PROVIDER_ADAPTERS,
      useFactory: (declarations: readonly ProviderDeclaration[]) => Promise.all(declarations.map((d) => d.adapter())),
      inject: [PROVIDER_DECLARATIONS],
    },
    ProviderRegistry,
    ProviderSettingsService,
    UpstreamHttp,
  ],
  exports: [ProviderRegistry, ProviderSettingsService, UpstreamHttp],
})
export class ProvidersModule {}
