import { HttpClient } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import type { Observable } from 'rxjs';
import type { AdminModelList, AdminSession, AdminSessionInfo, ProviderDetail, StatsGranularity, StatsRange, StatsResponse } from '#contracts';
// 模型浏览
import type { DiscoveryRefreshResult, ModelDiscovery } from '#contracts';

/**
 * The admin API (`/api/*`, same origin as the console), typed by libs/contracts. The auth
 * interceptor adds the session token and handles 401s; callers see plain HttpErrorResponses
 * (describeApiError turns them into words).
 */
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
}

/** `/api/models/:id/routes/:provider/pin`; model ids may hold slashes or colons, hence the encoding. */
function routePinUrl(model: string, provider: string): string {
  return `/api/models/${encodeURIComponent(model)}/routes/${encodeURIComponent(provider)}/pin`;
}
