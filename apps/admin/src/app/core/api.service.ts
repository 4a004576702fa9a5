import { HttpClient, type HttpResponse } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import type { Observable } from 'rxjs';
import type {
  AdminModelList,
  AdminSession,
  AdminSessionInfo,
  ImageGenerationRequest,
  ImagesResponse,
  ProviderDetail,
  RequestLogPage,
  StatsGranularity,
  StatsRange,
  StatsResponse,
} from '#contracts';

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

  // 在线对话测试

  /** `POST /api/images/test`: /v1/images/generations behind the admin session; the response carries x-pool-provider. */
  testImage(body: ImageGenerationRequest): Observable<HttpResponse<ImagesResponse>> {
    return this.http.post<ImagesResponse>('/api/images/test', body, { observe: 'response' });
  }

  /** The newest request-log entries of one model (to find one request's upstream attempts by its x-request-id). */
  recentRequests(model: string, pageSize = 20): Observable<RequestLogPage> {
    return this.http.get<RequestLogPage>('/api/logs', { params: { model, pageSize: String(pageSize) } });
  }
}
