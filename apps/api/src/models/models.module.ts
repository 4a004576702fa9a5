import { Module } from '@nestjs/common';
import { ProvidersModule } from '../providers/providers.module.ts';
import { AutoModelsService, QUOTA_HEADROOM, ledgerHeadroom } from './auto-models.service.ts';
import { ProviderRegistry } from '../providers/provider-registry.service.ts';
import { CatalogService } from './catalog.service.ts';
import { DiscoveredModelsService } from './discovered-models.service.ts';
import { DiscoveryService } from './discovery.service.ts';
import { KnownNamesLink } from './known-names.link.ts';
import { ModelAvailabilityService } from './model-availability.ts';
import { ModelAliasesService } from './model-aliases.service.ts';

/** The model catalog (ids, aliases, routes), virtual `auto` models, live discovery of what each provider serves, and vision rules. */
@Module({
  imports: [ProvidersModule],
  providers: [
    CatalogService,
    DiscoveryService,
    KnownNamesLink,
    ModelAvailabilityService,
    ModelAliasesService,
    AutoModelsService,
    DiscoveredModelsService,
    // The quota ledger's headroom, per provider (its keys' best): ranks auto models.
    { provide: QUOTA_HEADROOM, inject: [ProviderRegistry], useFactory: ledgerHeadroom },
  ],
  exports: [CatalogService, DiscoveryService, ModelAvailabilityService, ModelAliasesService, AutoModelsService, DiscoveredModelsService],
})
export class ModelsModule {}
