import { HttpClient, type HttpResponse } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import type { Observable } from 'rxjs';
import type {
  CacheSettings,
  SetCacheRequest,
  RoutingSettings,
  SetRoutingRequest,
  AddProviderKeyRequest,
  AdminModel,
  AdminModelList,
  AdminSession,
  AdminSessionInfo,
  ApiAccess,
  AutoModel,
  AutoModelList,
  ClientKey,
  ClientKeyList,
  CreateClientKeyRequest,
  CreatedClientKey,
  DiscoveryAutoAddList,
  DiscoveryRefreshResult,
  ImageGenerationRequest,
  ImagesResponse,
  KeyTestResult,
  KeyUsageResponse,
  ModelAliasList,
  ProviderModelStats,
  ModelDiscovery,
  ModelRouting,
  ModelRoutingList,
  SetModelRoutingRequest,
  ProviderCheck,
  ProviderCheckAll,
  ProviderDetail,
  ProviderQuotaList,
  RequestLogPage,
  StatsGranularity,
  StatsRange,
  StatsResponse,
  UpdateClientKeyRequest,
  UpdateProviderRequest,
  UpstreamRequest,
  UpstreamModelsResult,
  UpstreamTestRequest,
  UpstreamTestResult,
  UpstreamTrialRequest,
} from '#contracts';

/**
 * The admin API (`/api/*`, same origin as the console), typed by libs/contracts. The auth
 * interceptor adds the session token and handles 401s; callers see plain HttpErrorResponses
 * (describeApiError turns them into words).
 */
/** `GET /api/health/history/{provider}` as the console reads it. */
export interface ProviderHealthHistoryView {
  provider: string;
  /** `model`: what a chat probe sent its request to (absent or null for the other probes). */
  items: Array<Pick<ProviderCheck, 'checkedAt' | 'ok' | 'latencyMs' | 'error' | 'model'> & { probe: string }>;
}

@Injectable({ providedIn: 'root' })
export class ApiService {
  private readonly http = inject(HttpClient);

  login(password: string): Observable<AdminSession> {
    return this.http.post<AdminSession>('/api/auth/login', { password });
  }

  logout(): Observable<void> {
    return this.http.post<void>('/api/auth/logout', null);
  }

  session(): Observable<AdminSessionInfo> {
    return this.http.get<AdminSessionInfo>('/api/auth/session');
  }

  /** Whether /v1 needs a key, is open to everyone, or answers only the gateway's machine. */
  apiAccess(): Observable<ApiAccess> {
    return this.http.get<ApiAccess>('/api/auth/api-access');
  }

  stats(range: StatsRange, granularity?: StatsGranularity): Observable<StatsResponse> {
    const params: Record<string, string> = { range };
    if (granularity) params['granularity'] = granularity;
    return this.http.get<StatsResponse>('/api/stats', { params });
  }

  providers(): Observable<ProviderDetail[]> {
    return this.http.get<ProviderDetail[]>('/api/providers');
  }

  models(): Observable<AdminModelList> {
    return this.http.get<AdminModelList>('/api/models');
  }

  // API 密钥

  clientKeys(): Observable<ClientKeyList> {
    return this.http.get<ClientKeyList>('/api/keys');
  }

  /** The only answer that ever carries the key's secret. */
  createClientKey(body: CreateClientKeyRequest): Observable<CreatedClientKey> {
    return this.http.post<CreatedClientKey>('/api/keys', body);
  }

  updateClientKey(id: string, body: UpdateClientKeyRequest): Observable<ClientKey> {
    return this.http.patch<ClientKey>(`/api/keys/${encodeURIComponent(id)}`, body);
  }

  /** Revokes for good (the API has no delete: the record stays for logs and stats). */
  revokeClientKey(id: string): Observable<ClientKey> {
    return this.http.delete<ClientKey>(`/api/keys/${encodeURIComponent(id)}`);
  }

  // 请求日志

  /** `params`: page, pageSize, from, to (epoch ms), model, provider, status, clientKey; absent ones are not sent. */
  logs(params: Record<string, string | number>): Observable<RequestLogPage> {
    return this.http.get<RequestLogPage>('/api/logs', { params });
  }

  /** The filtered log as a file (`format`: csv or jsonl; the filters of logs() without paging), with its headers. */
  exportLogs(params: Record<string, string | number>): Observable<HttpResponse<Blob>> {
    return this.http.get('/api/logs/export', { params, responseType: 'blob', observe: 'response' });
  }

  /** One client key's usage over time. */
  keyUsage(id: string, range: StatsRange): Observable<KeyUsageResponse> {
    return this.http.get<KeyUsageResponse>(`/api/stats/keys/${encodeURIComponent(id)}`, { params: { range } });
  }

  // 提供商管理

  /** Changes settings (`{ enabled }` switches a provider on or off); null resets one to the environment's. */
  updateProvider(name: string, body: UpdateProviderRequest): Observable<ProviderDetail> {
    return this.http.patch<ProviderDetail>(this.providerPath(name), body);
  }

  /** Probes one provider now; the answer's `lastCheck` is the result. */
  checkProvider(name: string): Observable<ProviderDetail> {
    return this.http.post<ProviderDetail>(`${this.providerPath(name)}/health`, null);
  }

  /** A provider's stored health checks, newest first. */
  healthHistory(name: string, limit: number): Observable<ProviderHealthHistoryView> {
    return this.http.get<ProviderHealthHistoryView>(`/api/health/history/${encodeURIComponent(name)}`, { params: { limit } });
  }

  /** One provider's success rate and latency per model over a range (upstream attempts). */
  providerModelStats(name: string, range: StatsRange): Observable<ProviderModelStats> {
    return this.http.get<ProviderModelStats>(`/api/stats/providers/${encodeURIComponent(name)}/models`, { params: { range } });
  }

  /** The routing strategy in force and where it comes from. */
  routing(): Observable<RoutingSettings> {
    return this.http.get<RoutingSettings>('/api/routing');
  }

  /** Stores and applies a routing strategy; null goes back to ROUTING_STRATEGY. */
  setRouting(strategy: SetRoutingRequest['strategy']): Observable<RoutingSettings> {
    return this.http.put<RoutingSettings>('/api/routing', { strategy } satisfies SetRoutingRequest);
  }

  /** The response cache: its switch, bounds, contents and savings. */
  cache(): Observable<CacheSettings> {
    return this.http.get<CacheSettings>('/api/cache');
  }

  /** Stores and applies the response cache's switch (null: back to RESPONSE_CACHE) or forced models. */
  setCache(change: SetCacheRequest): Observable<CacheSettings> {
    return this.http.put<CacheSettings>('/api/cache', change satisfies SetCacheRequest);
  }

  /** Probes every enabled, configured provider now. */
  checkAllProviders(): Observable<ProviderCheckAll> {
    return this.http.post<ProviderCheckAll>('/api/health/check', null);
  }

  addProviderKey(name: string, body: AddProviderKeyRequest): Observable<ProviderDetail> {
    return this.http.post<ProviderDetail>(`${this.providerPath(name)}/keys`, body);
  }

  removeProviderKey(name: string, keyId: string): Observable<void> {
    return this.http.delete<void>(`${this.providerPath(name)}/keys/${encodeURIComponent(keyId)}`);
  }

  testProviderKey(name: string, keyId: string): Observable<KeyTestResult> {
    return this.http.post<KeyTestResult>(`${this.providerPath(name)}/keys/${encodeURIComponent(keyId)}/test`, null);
  }

  // 免费额度账本

  quotas(): Observable<ProviderQuotaList> {
    return this.http.get<ProviderQuotaList>('/api/quotas');
  }

  /** Replaces the console's limits of a provider, or of one of its keys (`keyId`). */
  setQuota(name: string, keyId: string | null, body: Record<string, unknown>): Observable<ProviderQuotaList> {
    return this.http.put<ProviderQuotaList>(quotaUrl(name, keyId), body);
  }

  /** Drops the console's limits of a provider or key: the documented ones (and QUOTA_LIMITS) apply again. */
  clearQuota(name: string, keyId: string | null): Observable<ProviderQuotaList> {
    return this.http.delete<ProviderQuotaList>(quotaUrl(name, keyId));
  }

  createUpstream(body: UpstreamRequest): Observable<ProviderDetail> {
    return this.http.post<ProviderDetail>('/api/upstreams', body);
  }

  /** Replaces a console-defined upstream's definition (`body.name` must be `name`). */
  updateUpstream(name: string, body: UpstreamRequest): Observable<ProviderDetail> {
    return this.http.patch<ProviderDetail>(`/api/upstreams/${encodeURIComponent(name)}`, body);
  }

  deleteUpstream(name: string): Observable<void> {
    return this.http.delete<void>(`/api/upstreams/${encodeURIComponent(name)}`);
  }

  /** 读取模型列表: the upstream's `/models`, read with the form's address and key (saved or not). */
  readUpstreamModels(body: UpstreamTrialRequest): Observable<UpstreamModelsResult> {
    return this.http.post<UpstreamModelsResult>('/api/upstreams/models', body);
  }

  /** 测试: a one-token chat per key. */
  testUpstream(body: UpstreamTestRequest): Observable<UpstreamTestResult> {
    return this.http.post<UpstreamTestResult>('/api/upstreams/test', body);
  }

  // 模型浏览

  /** Fetches the providers' model lists now (all of them, or one) and answers what each fetch found. */
  refreshDiscovery(provider?: string): Observable<DiscoveryRefreshResult[]> {
    const params: Record<string, string> = provider ? { provider } : {};
    return this.http.post<DiscoveryRefreshResult[]>('/api/discovery/refresh', null, { params });
  }

  /** Keeps routing a model to a provider even when the provider's model list does not show it. */
  pinRoute(model: string, provider: string): Observable<ModelDiscovery> {
    return this.http.post<ModelDiscovery>(routePinUrl(model, provider), null);
  }

  /** Removes the operator's pin (a catalog `pinned: true` stays). */
  unpinRoute(model: string, provider: string): Observable<ModelDiscovery> {
    return this.http.delete<ModelDiscovery>(routePinUrl(model, provider));
  }

  /** The models with their own route order, weights or forced provider. */
  modelRoutings(): Observable<ModelRoutingList> {
    return this.http.get<ModelRoutingList>('/api/routing/models');
  }

  /** One model's routes as routing uses them: its own order and weights, the providers' defaults, the forced provider. */
  modelRouting(model: string): Observable<ModelRouting> {
    return this.http.get<ModelRouting>(modelRoutingUrl(model));
  }

  /** Changes a model's own routing (absent fields stay, null goes back to the providers' settings). */
  setModelRouting(model: string, change: Partial<SetModelRoutingRequest>): Observable<ModelRouting> {
    return this.http.patch<ModelRouting>(modelRoutingUrl(model), change);
  }

  /** Back to the providers' priorities and weights, not forced. */
  resetModelRouting(model: string): Observable<ModelRouting> {
    return this.http.delete<ModelRouting>(modelRoutingUrl(model));
  }

  /** The model aliases in effect, the defaults (MODEL_ALIASES) and where the ones in effect come from. */
  aliases(): Observable<ModelAliasList> {
    return this.http.get<ModelAliasList>('/api/aliases');
  }

  /** Replaces the aliases with this whole map (kept in storage; checked by the gateway, 400 naming what is wrong). */
  setAliases(aliases: Record<string, string>): Observable<ModelAliasList> {
    return this.http.put<ModelAliasList>('/api/aliases', { aliases });
  }

  /** Forgets the console's map: MODEL_ALIASES (and CATALOG_FILE) apply again. */
  resetAliases(): Observable<ModelAliasList> {
    return this.http.delete<ModelAliasList>('/api/aliases');
  }

  /** The virtual models (`auto`…) in effect, the defaults and where the ones in effect come from. */
  autoModels(): Observable<AutoModelList> {
    return this.http.get<AutoModelList>('/api/auto-models');
  }

  /** Replaces the virtual models with this whole list (kept in storage; checked by the gateway, 400 naming what is wrong). */
  setAutoModels(models: AutoModel[]): Observable<AutoModelList> {
    return this.http.put<AutoModelList>('/api/auto-models', { models });
  }

  /** Forgets the console's list: the built-in ones and CATALOG_FILE's apply again. */
  resetAutoModels(): Observable<AutoModelList> {
    return this.http.delete<AutoModelList>('/api/auto-models');
  }

  /** Per provider: whether models its list has and the catalog lacks are added. */
  discoveryAutoAdd(): Observable<DiscoveryAutoAddList> {
    return this.http.get<DiscoveryAutoAddList>('/api/discovery/auto-add');
  }

  /** Turns auto-add on or off for one provider (null: DISCOVERY_AUTO_ADD decides again). */
  setDiscoveryAutoAdd(provider: string, enabled: boolean | null): Observable<DiscoveryAutoAddList> {
    return this.http.put<DiscoveryAutoAddList>(`/api/discovery/auto-add/${encodeURIComponent(provider)}`, { enabled });
  }

  /** Makes a discovered model a curated catalog entry (kept in storage). */
  promoteModel(id: string): Observable<AdminModel> {
    return this.http.post<AdminModel>(`/api/models/${encodeURIComponent(id)}/promote`, null);
  }

  // 在线对话测试

  /** `POST /api/images/test`: /v1/images/generations behind the admin session; the response carries x-pool-provider. */
  testImage(body: ImageGenerationRequest): Observable<HttpResponse<ImagesResponse>> {
    return this.http.post<ImagesResponse>('/api/images/test', body, { observe: 'response' });
  }

  /** The newest request-log entries of one model (to find one request's upstream attempts by its x-request-id). */
  recentRequests(model: string, pageSize = 20): Observable<RequestLogPage> {
    return this.http.get<RequestLogPage>('/api/logs', { params: { model, pageSize: String(pageSize) } });
  }

  private providerPath(name: string): string {
    return `/api/providers/${encodeURIComponent(name)}`;
  }
}

/** `/api/models/:id/routes/:provider/pin`; model ids may hold slashes or colons, hence the encoding. */
function routePinUrl(model: string, provider: string): string {
  return `/api/models/${encodeURIComponent(model)}/routes/${encodeURIComponent(provider)}/pin`;
}

/** `/api/routing/models/:id` (model ids may hold slashes or colons). */
function modelRoutingUrl(model: string): string {
  return `/api/routing/models/${encodeURIComponent(model)}`;
}

function quotaUrl(name: string, keyId: string | null): string {
  const base = `/api/quotas/${encodeURIComponent(name)}`;
  return keyId === null ? base : `${base}/keys/${encodeURIComponent(keyId)}`;
}
