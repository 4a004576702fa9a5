import { Injectable, type OnModuleInit } from '@nestjs/common';
import { PoolEvents } from '../events/pool-events.service.ts';
import { ProviderRegistry } from '../providers/provider-registry.service.ts';
import { CatalogService } from './catalog.service.ts';

/**
 * Tells PoolEvents which model ids and provider names are real. The events module sits below
 * models and providers, so it cannot ask for them; they hand themselves down instead.
 */
@Injectable()
export class KnownNamesLink implements OnModuleInit {
  constructor(
    private readonly events: PoolEvents,
    private readonly catalog: CatalogService,
    private readonly registry: ProviderRegistry,
  ) {}

  onModuleInit(): void {
    this.events.useKnownNames({ model: (id) => this.catalog.resolve(id)?.id, provider: (name) => this.registry.find(name)?.name });
  }
}
