import { Module } from '@nestjs/common';
import { CloudflareAdapter } from './cloudflare/cloudflare.adapter.ts';
import { deepInfraAdapter } from './deepinfra/deepinfra.adapter.ts';
import { huggingFaceAdapter } from './huggingface/huggingface.adapter.ts';
import { pollinationsAdapter } from './pollinations/pollinations.adapter.ts';
import type { ProviderAdapter } from './provider-adapter.ts';
import { PROVIDER_ADAPTERS, ProviderRegistry } from './provider-registry.service.ts';
import { ProviderSettingsService } from './provider-settings.service.ts';
import { togetherAdapter } from './together/together.adapter.ts';
import { UpstreamHttp } from './upstream-http.ts';

/** Adding a provider: one folder with its adapter, and one line here. */
const builtinAdapters = (): ProviderAdapter[] => [pollinationsAdapter(), deepInfraAdapter(), togetherAdapter(), huggingFaceAdapter(), new CloudflareAdapter()];

@Module({
  providers: [{ provide: PROVIDER_ADAPTERS, useFactory: builtinAdapters }, ProviderRegistry, ProviderSettingsService, UpstreamHttp],
  exports: [ProviderRegistry, ProviderSettingsService, UpstreamHttp],
})
export class ProvidersModule {}
