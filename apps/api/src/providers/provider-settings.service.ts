import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ApiError } from '../common/api-error.ts';
import { SecretBox } from '../common/secret-box.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { STORAGE, type Storage } from '../storage/storage.ts';
import type { CustomUpstreamConfig } from './custom/custom-upstreams.ts';
import type { KeyEntry } from './key-pool.ts';
import { ProviderRegistry, type ProviderOverride, type ProviderState } from './provider-registry.service.ts';

const OVERRIDES = 'provider-override';
const KEYS = 'upstream-key';
const UPSTREAMS = 'upstream';

interface StoredKey {
  provider: string;
  sealed: string;
  label?: string;
  createdAt: number;
}

/**
 * What operators change from the console (provider settings, upstream keys, their own
 * upstreams), saved in storage and applied to the live registry. Stored settings win over the
 * environment; keys from the environment stay and console keys join them. Every replica
 * re-applies on `settings.changes`, so a change made on one takes effect on all.
 */
@Injectable()
export class ProviderSettingsService implements OnModuleInit {
  private readonly logger = new Logger('ProviderSettings');
  private readonly box: SecretBox;

  constructor(
    private readonly registry: ProviderRegistry,
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.box = SecretBox.fromConfig(config.secretKey, config.dataDir);
  }

  async onModuleInit(): Promise<void> {
    await this.reload();
    this.storage.settings.changes.subscribe(({ namespace }) => {
      if (namespace === OVERRIDES || namespace === KEYS || namespace === UPSTREAMS) {
        this.reload().catch((err: Error) => this.logger.error(`reloading provider settings failed: ${err.message}`));
      }
    });
  }

  /** Re-applies everything stored; cheap enough to run on every change. */
  async reload(): Promise<void> {
    const [overrides, keys, upstreams] = await Promise.all([
      this.storage.settings.list<ProviderOverride>(OVERRIDES),
      this.storage.settings.list<StoredKey>(KEYS),
      this.storage.settings.list<CustomUpstreamConfig>(UPSTREAMS),
    ]);
    const stored = new Set(Object.keys(upstreams));
    for (const u of this.registry.customUpstreams) {
      if (u.source === 'console' && !stored.has(u.name.toLowerCase())) this.registry.removeUpstream(u.name);
    }
    for (const u of Object.values(upstreams)) {
      const current = this.registry.upstream(u.name);
      if (current?.source === 'file') continue;
      if (!current || JSON.stringify(current) !== JSON.stringify(u)) this.registry.addUpstream(u);
    }
    const keysByProvider = new Map<string, KeyEntry[]>();
    for (const [id, k] of Object.entries(keys)) {
      let value: string;
      try {
        value = this.box.open(k.sealed);
      } catch {
        this.logger.error(`upstream key ${id} of ${k.provider} cannot be decrypted: was SECRET_KEY changed?`);
        continue;
      }
      const list = keysByProvider.get(k.provider) ?? [];
      list.push({ id, value, source: 'console', label: k.label });
      keysByProvider.set(k.provider, list);
    }
    for (const p of this.registry.all()) p.applyOverride(overrides[p.adapter.id], keysByProvider.get(p.adapter.id) ?? []);
  }

  provider(name: string): ProviderState {
    const p = this.registry.find(name);
    if (!p) throw new ApiError(404, `No provider named \`${name}\`.`, 'not_found_error', 'provider_not_found', 'name');
    return p;
  }

  async update(name: string, patch: ProviderOverride): Promise<ProviderState> {
    const p = this.provider(name);
    const current = (await this.storage.settings.get<ProviderOverride>(OVERRIDES, p.adapter.id)) ?? {};
    const next: ProviderOverride = { ...current, ...patch, extra: patch.extra ? { ...current.extra, ...patch.extra } : current.extra };
    await this.storage.settings.set(OVERRIDES, p.adapter.id, next);
    await this.reload();
    return p;
  }

  toggle(name: string): Promise<ProviderState> {
    const p = this.provider(name);
    return this.update(name, { enabled: !p.enabled });
  }

  async addKey(name: string, value: string, label?: string): Promise<string> {
    const p = this.provider(name);
    const id = `key-${randomUUID()}`;
    await this.storage.settings.set<StoredKey>(KEYS, id, { provider: p.adapter.id, sealed: this.box.seal(value.trim()), label, createdAt: Date.now() });
    await this.reload();
    return id;
  }

  async removeKey(name: string, id: string): Promise<void> {
    const p = this.provider(name);
    const key = p.keys.get(id);
    if (!key) throw new ApiError(404, `Provider ${p.name} has no key \`${id}\`.`, 'not_found_error', 'key_not_found', 'id');
    if (key.source !== 'console') {
      throw ApiError.badRequest(`This key comes from the environment or PROVIDERS_FILE; remove it there.`, 'id', 'key_read_only');
    }
    await this.storage.settings.delete(KEYS, id);
    await this.reload();
  }

  async saveUpstream(u: CustomUpstreamConfig, creating: boolean): Promise<ProviderState> {
    const existing = this.registry.find(u.name);
    if (creating && existing) throw new ApiError(409, `A provider named \`${u.name}\` already exists.`, 'invalid_request_error', 'provider_exists', 'name');
    if (!creating && !existing?.custom) throw new ApiError(404, `No upstream named \`${u.name}\`.`, 'not_found_error', 'provider_not_found', 'name');
    if (this.registry.upstream(u.name)?.source === 'file') {
      throw ApiError.badRequest(`\`${u.name}\` is defined in PROVIDERS_FILE; edit it there.`, 'name', 'upstream_read_only');
    }
    await this.storage.settings.set(UPSTREAMS, u.name.toLowerCase(), { ...u, apiKeys: [], source: 'console' } satisfies CustomUpstreamConfig);
    await this.reload();
    return this.provider(u.name);
  }

  async deleteUpstream(name: string): Promise<void> {
    const u = this.registry.upstream(name);
    if (!u) throw new ApiError(404, `No upstream named \`${name}\`.`, 'not_found_error', 'provider_not_found', 'name');
    if (u.source === 'file') throw ApiError.badRequest(`\`${u.name}\` is defined in PROVIDERS_FILE; remove it there.`, 'name', 'upstream_read_only');
    const keys = await this.storage.settings.list<StoredKey>(KEYS);
    for (const [id, k] of Object.entries(keys)) if (k.provider === u.name.toLowerCase()) await this.storage.settings.delete(KEYS, id);
    await this.storage.settings.delete(OVERRIDES, u.name.toLowerCase());
    await this.storage.settings.delete(UPSTREAMS, u.name.toLowerCase());
    await this.reload();
  }
}
