import { loadConfig } from '../config/app-config.ts';
import { ProviderRegistry } from '../providers/provider-registry.service.ts';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import { CatalogService } from './catalog.service.ts';
import { ALIASES_KEY, ALIASES_NS, ModelAliasesService } from './model-aliases.service.ts';

/** Two services on one store, as two replicas sharing Redis would be. */
async function world(env: Record<string, string> = {}) {
  const storage = new SqliteStorage({ file: ':memory:' });
  await storage.init();
  const make = async () => {
    const config = loadConfig(env);
    const catalog = new CatalogService(config, new ProviderRegistry([], config));
    const service = new ModelAliasesService(catalog, storage);
    await service.onModuleInit();
    return { catalog, service };
  };
  return { storage, make };
}

describe('ModelAliasesService', () => {
  it('starts from the stored map, dropping entries whose model left the catalog, and follows another replica’s saves', async () => {
    const { storage, make } = await world({ MODEL_ALIASES: '{"gpt-5*": "deepseek-v3"}' });
    await storage.settings.set(ALIASES_NS, ALIASES_KEY, { 'claude-*': 'deepseek-v3', 'old-*': 'retired-model' });
    const a = await make();
    const b = await make();
    try {
      expect(a.service.view()).toEqual({
        aliases: [{ pattern: 'claude-*', model: 'deepseek-v3' }],
        defaults: [{ pattern: 'gpt-5*', model: 'deepseek-v3' }],
        source: 'console',
      });
      expect(a.catalog.lookup('claude-3')).toMatchObject({ model: { id: 'deepseek-v3' }, alias: 'claude-*' });
      expect(a.catalog.lookup('gpt-5')).toBeUndefined();

      await b.service.set({ 'team-*': 'llama-3.3-70b' });
      await new Promise((r) => setImmediate(r));
      expect(a.catalog.lookup('team-coder')?.model.id).toBe('llama-3.3-70b');
      await b.service.reset();
      await new Promise((r) => setImmediate(r));
      expect(a.service.view().source).toBe('config');
      expect(a.catalog.lookup('gpt-5')?.alias).toBe('gpt-5*');
      expect(await storage.settings.get(ALIASES_NS, ALIASES_KEY)).toBeUndefined();
    } finally {
      a.service.onModuleDestroy();
      b.service.onModuleDestroy();
      await storage.close();
    }
  });

  it('refuses a bad map with a 400 and stores nothing', async () => {
    const { storage, make } = await world();
    const { service } = await make();
    try {
      await expect(service.set({ 'claude-*': 'nope' })).rejects.toMatchObject({ status: 400, code: 'invalid_alias' });
      expect(await storage.settings.list(ALIASES_NS)).toEqual({});
      expect(service.view().source).toBe('config');
    } finally {
      service.onModuleDestroy();
      await storage.close();
    }
  });
});
