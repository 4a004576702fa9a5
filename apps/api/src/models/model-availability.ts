import { Injectable } from '@nestjs/common';
import type { CatalogModel, ModelCategory } from '#contracts';
import { truncate } from '../events/record-bounds.ts';
import { ProviderRegistry } from '../providers/provider-registry.service.ts';
import { CatalogService } from './catalog.service.ts';
import { DiscoveryService } from './discovery.service.ts';

/** Whether a model has a route that can be used now, and if not, why (for people: bounded, one line). */
export interface ModelAvailability {
  available: boolean;
  /** null when available. */
  reason: string | null;
}

/** What a client asks the pool for: the text categories all go to chat completions. */
export type Capability = 'chat' | 'image' | 'audio' | 'embedding' | 'transcription';

export const CAPABILITY_OF: Record<ModelCategory, Capability> = {
  chat: 'chat',
  reasoning: 'chat',
  code: 'chat',
  vision: 'chat',
  image: 'image',
  audio: 'audio',
  embedding: 'embedding',
  'speech-to-text': 'transcription',
};

const MAX_REASON = 300;

/**
 * Which catalog models can be served now: a model is available when one of its routes goes to a
 * provider that is enabled and configured (its key and settings present) and that discovery has
 * not found to have dropped the model. Breakers are left out on purpose: a provider cooling down
 * comes back within a minute, and a list that shrank and grew with every failure would confuse
 * clients that cache it.
 */
@Injectable()
export class ModelAvailabilityService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly registry: ProviderRegistry,
    private readonly discovery: DiscoveryService,
  ) {}

  of(model: CatalogModel): ModelAvailability {
    const reasons: string[] = [];
    for (const route of model.routes) {
      const provider = this.registry.find(route.provider);
      const why = provider ? (provider.unusableReason() ?? this.discovery.routeSkipReason(model, route, provider)) : 'not known to this gateway';
      if (!why) return { available: true, reason: null };
      const line = `${provider?.name ?? route.provider}: ${why}`;
      if (!reasons.includes(line)) reasons.push(line);
    }
    return { available: false, reason: truncate(reasons.join('; ') || 'the model has no route', MAX_REASON) };
  }

  /** Catalog models with at least one usable route, by id. */
  availableIds(): Set<string> {
    return new Set(
      this.catalog
        .all()
        .filter((m) => this.of(m).available)
        .map((m) => m.id),
    );
  }

  /** Per capability, how many catalog models there are and how many are available now. */
  byCapability(): Record<Capability, { models: number; available: number }> {
    const counts: Record<Capability, { models: number; available: number }> = {
      chat: { models: 0, available: 0 },
      image: { models: 0, available: 0 },
      audio: { models: 0, available: 0 },
      embedding: { models: 0, available: 0 },
      transcription: { models: 0, available: 0 },
    };
    for (const model of this.catalog.all()) {
      const count = counts[CAPABILITY_OF[model.category]];
      count.models++;
      if (this.of(model).available) count.available++;
    }
    return counts;
  }
}
