import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ApiError } from '../common/api-error.ts';
import { originOf, restoreUrlCredentials } from '../common/redact.ts';
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
  /** The origin of the base URL the key was entered for (see KeyEntry.origin); absent in keys stored before. */
  origin?: string;
}

/** A key sent with a settings change, for the base URL the change sets. */
export interface NewKey {
  key: string;
  label?: string;
}

/**
 * A URL field as sent, its masked credentials (as the API shows them) replaced by the stored ones
 * when they can be: same origin only. A mask that cannot be restored is refused, not stored.
 */
function unmasked<T extends string | null | undefined>(sent: T, field: string, ...current: (string | undefined)[]): T {
  if (!sent) return sent;
  for (const c of current) {
    const restored = restoreUrlCredentials(sent, c);
    if (restored !== undefined) return restored as T;
  }
  throw ApiError.badRequest(
    `Invalid value for '${field}': it holds the **** the API shows instead of the credentials; send the URL with them in full.`,
    field,
    'credentials_hidden',
  );
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
    const secrets: string[] = [];
    for (const [id, k] of Object.entries(keys)) {
      let value: string;
      try {
        value = this.box.open(k.sealed);
      } catch {
        this.logger.error(`upstream key ${id} of ${k.provider} cannot be decrypted: was SECRET_KEY changed?`);
        continue;
      }
      secrets.push(value);
      const list = keysByProvider.get(k.provider) ?? [];
      list.push({ id, value, source: 'console', label: k.label, origin: k.origin });
      keysByProvider.set(k.provider, list);
    }
    for (const p of this.registry.all()) p.applyOverride(overrides[p.adapter.id], keysByProvider.get(p.adapter.id) ?? []);
    this.registry.refreshSecrets(secrets);
  }

  provider(name: string): ProviderState {
    const p = this.registry.find(name);
    if (!p) throw new ApiError(404, `No provider named \`${name}\`.`, 'not_found_error', 'provider_not_found', 'name');
    return p;
  }

  /**
   * Saves a settings change. A base URL on another host needs the key for that host (`newKey`)
   * when the provider has keys and none for that host: otherwise its keys would be sent there.
   */
  async update(name: string, patch: ProviderOverride, newKey?: NewKey): Promise<ProviderState> {
    const p = this.provider(name);
    const current = (await this.storage.settings.get<ProviderOverride>(OVERRIDES, p.adapter.id)) ?? {};
    const sent: ProviderOverride = { ...patch, baseUrl: unmasked(patch.baseUrl, 'baseUrl', p.baseUrl), proxy: unmasked(patch.proxy, 'proxy', p.proxy) };
    for (const field of ['baseUrl', 'proxy'] as const) if (patch[field] === undefined) delete sent[field];
    const next: ProviderOverride = { ...current, ...sent, extra: patch.extra ? { ...current.extra, ...patch.extra } : current.extra };
    const target = next.baseUrl ?? p.configuredBaseUrl;
    await this.bindKeys(p, target, newKey);
    if (newKey) await this.storeKey(p, newKey, originOf(target));
    await this.storage.settings.set(OVERRIDES, p.adapter.id, next);
    await this.reload();
    return p;
  }

  /**
   * Before the base URL moves to `target`: refuses the move when it would leave the provider
   * without its keys on a new host and no key for that host comes with it; binds the console keys
   * stored before keys were bound to the host they were used with until now.
   */
  private async bindKeys(p: ProviderState, target: string, newKey: NewKey | undefined): Promise<void> {
    const from = p.origin;
    const to = originOf(target);
    if (from === to) return;
    const stored = Object.entries(await this.storage.settings.list<StoredKey>(KEYS)).filter(([, k]) => k.provider === p.adapter.id);
    const configured = originOf(p.configuredBaseUrl);
    const keysFor = (origin: string) => (origin === configured ? p.base.apiKeys.length : 0) + stored.filter(([, k]) => (k.origin ?? from) === origin).length;
    if (!newKey && keysFor(from) > 0 && keysFor(to) === 0) {
      throw ApiError.badRequest(
        `Moving ${p.name} from ${from} to ${to} would send its API keys to another host. Send the key for ${to} in \`key\` with the new base URL (the current keys stay with ${from}).`,
        'key',
        'key_required_for_new_host',
      );
    }
    for (const [id, k] of stored) if (!k.origin) await this.storage.settings.set<StoredKey>(KEYS, id, { ...k, origin: from });
  }

  private async storeKey(p: ProviderState, newKey: NewKey, origin: string): Promise<string> {
    const id = `key-${randomUUID()}`;
    const sealed = this.box.seal(newKey.key.trim());
    await this.storage.settings.set<StoredKey>(KEYS, id, { provider: p.adapter.id, sealed, label: newKey.label, createdAt: Date.now(), origin });
    return id;
  }

  toggle(name: string): Promise<ProviderState> {
    const p = this.provider(name);
    return this.update(name, { enabled: !p.enabled });
  }

  /** Adds a key for the provider's current base URL: it is only ever sent to that host. */
  async addKey(name: string, value: string, label?: string): Promise<string> {
    const p = this.provider(name);
    const id = await this.storeKey(p, { key: value, label }, p.origin);
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

  /**
   * Creates or replaces a console upstream. The URLs the console shows (credentials masked) stand
   * for the stored ones when sent back unchanged; a new host needs its key as in update().
   */
  async saveUpstream(u: CustomUpstreamConfig, creating: boolean, newKey?: NewKey): Promise<ProviderState> {
    const existing = this.registry.find(u.name);
    if (creating && existing) throw new ApiError(409, `A provider named \`${u.name}\` already exists.`, 'invalid_request_error', 'provider_exists', 'name');
    if (!creating && !existing?.custom) throw new ApiError(404, `No upstream named \`${u.name}\`.`, 'not_found_error', 'provider_not_found', 'name');
    const before = this.registry.upstream(u.name);
    if (before?.source === 'file') {
      throw ApiError.badRequest(`\`${u.name}\` is defined in PROVIDERS_FILE; edit it there.`, 'name', 'upstream_read_only');
    }
    const saved: CustomUpstreamConfig = {
      ...u,
      baseUrl: unmasked(u.baseUrl, 'baseUrl', before?.baseUrl, existing?.baseUrl),
      proxy: unmasked(u.proxy, 'proxy', before?.proxy, existing?.proxy),
      apiKeys: [],
      source: 'console',
    };
    const override = await this.storage.settings.get<ProviderOverride>(OVERRIDES, u.name.toLowerCase());
    const target = override?.baseUrl ?? saved.baseUrl;
    if (existing) await this.bindKeys(existing, target, newKey);
    await this.storage.settings.set(UPSTREAMS, u.name.toLowerCase(), saved);
    await this.reload();
    const state = this.provider(u.name);
    if (newKey) {
      await this.storeKey(state, newKey, originOf(target));
      await this.reload();
    }
    return state;
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
