import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Inject, Injectable } from '@nestjs/common';
import { parse as parseYaml } from 'yaml';
import { MODEL_CATEGORIES, type CatalogModel, type CatalogRoute, type ModelAlias, type ModelCategory, type ModelObject } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, ConfigError, type AppConfig } from '../config/app-config.ts';
import { ProviderRegistry } from '../providers/provider-registry.service.ts';
import { compileAliases, matchAlias, parseAliasMap, type AliasMap, type CompiledAlias } from './model-aliases.ts';

/** `created` for every catalog model: when this catalog was first published. */
const CATALOG_CREATED = 1_735_689_600; // 2025-01-01T00:00:00Z
/** Bounds an embedding model's declared vector length (the largest served today are 4096). */
const MAX_DIMENSIONS = 16_384;

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

/** A requested id resolved: the catalog model, and the alias pattern that led there (null for a catalog id). */
export interface ResolvedModel {
  model: CatalogModel;
  alias: string | null;
}

interface CatalogDoc {
  models?: unknown;
  aliases?: unknown;
  auto_models?: unknown;
}

function readDoc(file: string): CatalogDoc {
  try {
    return (parseYaml(readFileSync(file, 'utf8')) ?? {}) as CatalogDoc;
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
  if (m.vision !== undefined && typeof m.vision !== 'boolean') throw new ConfigError(`${where}.vision: expected true or false`);
  if (m.context_length !== undefined && (!Number.isInteger(m.context_length) || m.context_length <= 0)) {
    throw new ConfigError(`${where}.context_length: expected a whole number of tokens`);
  }
  if (m.family !== undefined && (typeof m.family !== 'string' || !m.family.trim())) throw new ConfigError(`${where}.family: expected a name`);
  if (m.dimensions !== undefined && !(Number.isInteger(m.dimensions) && m.dimensions > 0 && m.dimensions <= MAX_DIMENSIONS)) {
    throw new ConfigError(`${where}.dimensions: expected a whole number from 1 to ${MAX_DIMENSIONS}`);
  }
  if (m.routes !== undefined) {
    if (!Array.isArray(m.routes)) throw new ConfigError(`${where}.routes: expected a list`);
    m.routes.forEach((r: Partial<CatalogRoute>, j) => {
      if (typeof r?.provider !== 'string' || typeof r?.upstream_model !== 'string') {
        throw new ConfigError(`${where}.routes[${j}]: expected {provider, upstream_model}`);
      }
      // Route flags: `vision: false` for a provider that drops images, `pinned: true` to route past discovery.
      for (const flag of ['vision', 'pinned'] as const) {
        if (r[flag] !== undefined && typeof r[flag] !== 'boolean') throw new ConfigError(`${where}.routes[${j}].${flag}: expected true or false`);
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
  /** The shipped catalog with CATALOG_FILE applied. */
  private readonly fromFiles = new Map<string, CatalogModel>();
  private models = new Map<string, CatalogModel>();
  private lowerIndex = new Map<string, CatalogModel>();
  private modelList: ModelObject[] = [];
  /** MODEL_ALIASES over the catalog file's `aliases:`, targets checked at start. */
  private readonly defaultAliases: AliasMap;
  /** Discovered models the operator promoted to curated entries (kept in the store). */
  private promoted: CatalogModel[] = [];
  /** Models discovery added (auto-add), marked `discovered`. */
  private discovered: CatalogModel[] = [];
  /** The console's alias map, in place of the defaults when set. */
  private aliasOverride: AliasMap | null = null;
  private compiledAliases: CompiledAlias[] = [];
  /** The catalog file's `auto_models:` as written (AutoModelsService checks it); undefined when absent. */
  readonly fileAutoModels: unknown;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly registry: ProviderRegistry,
  ) {
    let fileAliases: unknown = {};
    const shipped = defaultCatalogPath();
    const base = readDoc(shipped).models;
    if (!Array.isArray(base)) throw new ConfigError(`${shipped}: expected "models": [...]`);
    base.forEach((raw, i) => this.put(checkModel(shipped, raw, i, false) as CatalogModel));

    if (config.catalogFile) {
      const doc = readDoc(config.catalogFile);
      const overrides = doc.models;
      fileAliases = doc.aliases ?? {};
      this.fileAutoModels = doc.auto_models ?? undefined;
      if (!Array.isArray(overrides)) throw new ConfigError(`${config.catalogFile}: expected "models": [...]`);
      overrides.forEach((raw, i) => {
        const o = checkModel(config.catalogFile!, raw, i, this.fromFiles.has((raw as CatalogOverride)?.id));
        if (o.disabled) this.fromFiles.delete(o.id);
        else this.put({ ...(this.fromFiles.get(o.id) ?? { label: o.id, owned_by: 'unknown' }), ...o } as CatalogModel);
      });
    }
    this.rebuild();
    this.defaultAliases = {
      ...this.startupAliases(fileAliases, `${config.catalogFile}: aliases`),
      ...this.startupAliases(config.modelAliases, 'MODEL_ALIASES'),
    };
    this.compiledAliases = compileAliases(this.defaultAliases);
    // Upstreams added or removed from the console bring or take their models' routes.
    registry.upstreamsChanged.subscribe(() => this.rebuild());
  }

  private put(model: CatalogModel): void {
    const { disabled: _disabled, ...clean } = model as CatalogOverride;
    this.fromFiles.set(model.id, clean as CatalogModel);
  }

  /** The files' models plus the routes (and new models) of operator-defined upstreams. */
  private rebuild(): void {
    const models = new Map<string, CatalogModel>();
    for (const [id, m] of this.fromFiles) models.set(id, { ...m, routes: [...m.routes] });
    // A promoted model gives way to a file entry of the same id: the file is the operator's too.
    const taken = (id: string) => [...models.keys()].some((k) => k.toLowerCase() === id.toLowerCase());
    for (const m of this.promoted) if (!taken(m.id)) models.set(m.id, { ...m, routes: [...m.routes] });
    for (const upstream of this.registry.customUpstreams) {
      for (const [id, upstreamModel] of Object.entries(upstream.models)) {
        const route = { provider: upstream.name, upstream_model: upstreamModel };
        const existing = models.get(id);
        if (existing) existing.routes.push(route);
        else models.set(id, { id, label: id, owned_by: upstream.ownedBy ?? upstream.name, category: 'chat', routes: [route] });
      }
    }
    for (const m of this.discovered) if (!taken(m.id)) models.set(m.id, { ...m, routes: [...m.routes] });
    const lowerIndex = new Map<string, CatalogModel>();
    for (const m of models.values()) lowerIndex.set(m.id.toLowerCase(), m);
    this.models = models;
    this.lowerIndex = lowerIndex;
    this.modelList = [...models.values()].map((m) => ({ id: m.id, object: 'model', created: CATALOG_CREATED, owned_by: m.owned_by }));
  }

  /** Puts the promoted models (curated, from the store) into the catalog. */
  setPromoted(models: CatalogModel[]): void {
    this.promoted = models;
    this.rebuild();
  }

  /** Puts the models discovery added into the catalog in place of the last ones (each marked `discovered`). */
  setDiscovered(models: CatalogModel[]): void {
    this.discovered = models.map((m) => ({ ...m, discovered: true }));
    this.rebuild();
  }

  /** A startup alias map checked in full: a bad pattern or an unknown target stops the start, named. */
  private startupAliases(raw: unknown, source: string): AliasMap {
    const problems: string[] = [];
    const aliases = this.checkAliases(raw, problems);
    if (problems.length) throw new ConfigError(`${source}: ${problems.join('; ')}`);
    return aliases;
  }

  /** The map with each target as its catalog id; what is wrong goes to `problems`. */
  private checkAliases(raw: unknown, problems: string[]): AliasMap {
    const parsed = parseAliasMap(raw);
    problems.push(...parsed.problems);
    const aliases: AliasMap = {};
    for (const [pattern, target] of Object.entries(parsed.aliases)) {
      const model = this.resolve(target);
      if (model) aliases[pattern] = model.id;
      else problems.push(`alias "${pattern}" points to the unknown model "${target}"`);
    }
    return aliases;
  }

  /**
   * An alias map from the console, checked like the startup ones but as a 400 naming what is
   * wrong; returns it with targets as catalog ids.
   */
  validateAliases(raw: unknown): AliasMap {
    const problems: string[] = [];
    const aliases = this.checkAliases(raw, problems);
    if (problems.length) throw ApiError.badRequest(`Invalid aliases: ${problems.slice(0, 10).join('; ')}`, 'aliases', 'invalid_alias');
    return aliases;
  }

  /** Puts the console's alias map in place of the defaults; null goes back to the defaults. */
  setAliasOverride(aliases: AliasMap | null): void {
    this.aliasOverride = aliases;
    this.compiledAliases = compileAliases(aliases ?? this.defaultAliases);
  }

  /** The aliases in effect, most specific first. */
  aliases(): ModelAlias[] {
    return this.compiledAliases.map((a) => ({ pattern: a.pattern, model: a.target }));
  }

  /** MODEL_ALIASES and the catalog file's aliases, most specific first. */
  defaults(): ModelAlias[] {
    return compileAliases(this.defaultAliases).map((a) => ({ pattern: a.pattern, model: a.target }));
  }

  /** Whether the console's alias map is in effect. */
  get aliasesOverridden(): boolean {
    return this.aliasOverride !== null;
  }

  /**
   * What a client's model id means: a catalog id (exact, then case-insensitive) wins; otherwise
   * the most specific alias whose target is still in the catalog.
   */
  lookup(id: string): ResolvedModel | undefined {
    const model = this.resolve(id);
    if (model) return { model, alias: null };
    const alias = matchAlias(this.compiledAliases, id);
    const target = alias && this.resolve(alias.target);
    return target ? { model: target, alias: alias.pattern } : undefined;
  }

  /** Like lookup(), but an unknown id is OpenAI's 404 model_not_found. Every front door resolves its model here. */
  requireResolved(id: string): ResolvedModel {
    const found = this.lookup(id);
    if (!found)
      throw new ApiError(404, `The model \`${id}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found', 'model');
    return found;
  }

  /** The catalog model a client's id (a catalog id or an alias) names; 404 when none. */
  require(id: string): CatalogModel {
    return this.requireResolved(id).model;
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
