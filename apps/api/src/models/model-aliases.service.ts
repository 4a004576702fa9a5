import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import type { ModelAliasList } from '#contracts';
import { STORAGE, type Storage } from '../storage/storage.ts';
import { CatalogService } from './catalog.service.ts';
import { parseAliasMap, type AliasMap } from './model-aliases.ts';

/** Settings namespace and key of the console's alias map (the whole map, in place of the defaults). */
export const ALIASES_NS = 'aliases';
export const ALIASES_KEY = 'map';

/**
 * The console's model aliases: kept in the settings store so that a restart (and every replica
 * sharing the store) uses them; the catalog does the matching. Unset, MODEL_ALIASES and the
 * catalog file's aliases apply.
 */
@Injectable()
export class ModelAliasesService implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('ModelAliases');
  private changesSub?: Subscription;

  constructor(
    private readonly catalog: CatalogService,
    @Inject(STORAGE) private readonly storage: Storage,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.reload();
    // Another replica saved or reset the aliases ('' after a cluster reconnect: anything may have changed).
    this.changesSub = this.storage.settings.changes.subscribe(({ namespace, key }) => {
      if (namespace === ALIASES_NS && (key === ALIASES_KEY || key === '')) void this.reload();
    });
  }

  onModuleDestroy(): void {
    this.changesSub?.unsubscribe();
  }

  view(): ModelAliasList {
    return { aliases: this.catalog.aliases(), defaults: this.catalog.defaults(), source: this.catalog.aliasesOverridden ? 'console' : 'config' };
  }

  /** Checks and stores the whole map (400 naming what is wrong), then applies it. */
  async set(raw: unknown): Promise<ModelAliasList> {
    const aliases = this.catalog.validateAliases(raw);
    await this.storage.settings.set(ALIASES_NS, ALIASES_KEY, aliases);
    this.catalog.setAliasOverride(aliases);
    return this.view();
  }

  /** Forgets the console's map: the defaults apply again. */
  async reset(): Promise<ModelAliasList> {
    await this.storage.settings.delete(ALIASES_NS, ALIASES_KEY);
    this.catalog.setAliasOverride(null);
    return this.view();
  }

  /**
   * Applies what the store holds. An alias whose model has left the catalog since it was saved
   * is dropped with a warning rather than stopping the start.
   */
  private async reload(): Promise<void> {
    try {
      const raw = await this.storage.settings.get<unknown>(ALIASES_NS, ALIASES_KEY);
      if (raw === undefined) return this.catalog.setAliasOverride(null);
      const { aliases, problems } = parseAliasMap(raw);
      const kept: AliasMap = {};
      for (const [pattern, target] of Object.entries(aliases)) {
        const model = this.catalog.resolve(target);
        if (model) kept[pattern] = model.id;
        else problems.push(`alias "${pattern}" points to the unknown model "${target}"`);
      }
      if (problems.length) this.log.warn(`stored aliases: ${problems.slice(0, 10).join('; ').slice(0, 2000)} (ignored)`);
      this.catalog.setAliasOverride(kept);
    } catch (err) {
      this.log.error(`cannot load the stored aliases: ${String((err as Error)?.message ?? err).slice(0, 500)}`);
    }
  }
}
