import { Module } from '@nestjs/common';
import { ProvidersModule } from '../providers/providers.module.ts';
import { CatalogService } from './catalog.service.ts';
import { DiscoveryService } from './discovery.service.ts';
import { KnownNamesLink } from './known-names.link.ts';
import { ModelAvailabilityService } from './model-availability.ts';
import { ModelAliasesService } from './model-aliases.service.ts';

/** The model catalog (ids, aliases, routes), live discovery of what each provider serves, and vision rules. */
@Module({
  imports: [ProvidersModule],
  providers: [CatalogService, DiscoveryService, KnownNamesLink, ModelAvailabilityService, ModelAliasesService],
  exports: [CatalogService, DiscoveryService, ModelAvailabilityService, ModelAliasesService],
})
export class ModelsModule {}
