import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Inject, Injectable } from '@nestjs/common';
import { parse as parseYaml } from 'yaml';
import { MODEL_CATEGORIES, type CatalogModel, type CatalogRoute, type ModelCategory, type ModelObject } from '#contracts';
import { APP_CONFIG, ConfigError, type AppConfig } from '../config/app-config.ts';
import { ProviderRegistry } from '../providers/provider-registry.service.ts';

/** `created` for every catalog model: when this catalog was first published. */
const CATALOG_CREATED = 1_735_689_600; // 2025-01-01T00:00:00Z

/** Finds catalog/models.json by walking up from this file (works from src and from dist). */
export function defaultCatalogPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'catalog', 'models.json');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new ConfigError('catalog/models.json not found next to the application');
    dir = parent;
  }
}

interface CatalogOverride extends Partial<CatalogModel> {
  id: string;
  /** Hide a shipped model. */
  disabled?: boolean;
}

function readDoc(file: string): { models?: unknown } {
  try {
    return (parseYaml(readFileSync(file, 'utf8')) ?? {}) as { models?: unknown };
  } catch (err) {
    throw new ConfigError(`${file}: cannot read: ${(err as Error).message}`);
  }
}

function checkModel(file: string, raw: unknown, i: number, partial: boolean): CatalogOverride {
  const where = `${file}: models[${i}]`;
  const m = raw as Partial<CatalogOverride>;
  if (typeof m?.id !== 'string' || !m.id.trim()) throw new ConfigError(`${where}.id: expected a model id`);
  if (m.category !== undefined && !MODEL_CATEGORIES.includes(m.category as ModelCategory)) {
    throw new ConfigError(`${where}.category: expected one of ${MODEL_CATEGORIES.join(', ')}`);
  }
  if (m.routes !== undefined) {
    if (!Array.isArray(m.routes)) throw new ConfigError(`${where}.routes: expected a list`);
    m.routes.forEach((r: Partial<CatalogRoute>, j) => {
      if (typeof r?.provider !== 'string' || typeof r?.upstream_model !== 'string') {
        throw new ConfigError(`${where}.routes[${j}]: expected {provider, upstream_model}`);
      }
    });
  }
  if (!partial && (m.routes === undefined || !m.category)) throw new ConfigError(`${where}: a new model needs category and routes`);
  return m as CatalogOverride;
}

/**
 * The model catalog: the shipped data file, the operator's overrides (CATALOG_FILE) and the
 * models that operator-defined upstreams add.
 */
@Injectable()
export class CatalogService {
  private readonly models = new Map<string, CatalogModel>();
  private readonly lowerIndex = new Map<string, CatalogModel>();
  private modelList: ModelObject[] = [];

  constructor(@Inject(APP_CONFIG) config: AppConfig, registry: ProviderRegistry) {
    const shipped = defaultCatalogPath();
    const base = readDoc(shipped).models;
    if (!Array.isArray(base)) throw new ConfigError(`${shipped}: expected "models": [...]`);
    base.forEach((raw, i) => this.put(checkModel(shipped, raw, i, false) as CatalogModel));

    if (config.catalogFile) {
      const overrides = readDoc(config.catalogFile).models;
      if (!Array.isArray(overrides)) throw new ConfigError(`${config.catalogFile}: expected "models": [...]`);
      overrides.forEach((raw, i) => {
        const o = checkModel(config.catalogFile!, raw, i, this.models.has((raw as CatalogOverride)?.id));
        if (o.disabled) this.models.delete(o.id);
        else this.put({ ...(this.models.get(o.id) ?? { label: o.id, owned_by: 'unknown' }), ...o } as CatalogModel);
      });
    }

    for (const upstream of registry.customUpstreams) {
      for (const [id, upstreamModel] of Object.entries(upstream.models)) {
        const route = { provider: upstream.name, upstream_model: upstreamModel };
        const existing = this.models.get(id);
        if (existing) existing.routes = [...existing.routes, route];
        else this.put({ id, label: id, owned_by: upstream.ownedBy ?? upstream.name, category: 'chat', routes: [route] });
      }
    }
    this.reindex();
  }

  private put(model: CatalogModel): void {
    const { disabled: _disabled, ...clean } = model as CatalogOverride;
    this.models.set(model.id, clean as CatalogModel);
  }

  private reindex(): void {
    this.lowerIndex.clear();
    for (const m of this.models.values()) this.lowerIndex.set(m.id.toLowerCase(), m);
    this.modelList = [...this.models.values()].map((m) => ({ id: m.id, object: 'model', created: CATALOG_CREATED, owned_by: m.owned_by }));
  }

  /** Exact id first, then case-insensitive (clients sometimes capitalize). */
  resolve(id: string): CatalogModel | undefined {
    return this.models.get(id) ?? this.lowerIndex.get(id.toLowerCase());
  }

  all(): CatalogModel[] {
    return [...this.models.values()];
  }

  /** The `/v1/models` data, built once. */
  list(): ModelObject[] {
    return this.modelList;
  }
}
