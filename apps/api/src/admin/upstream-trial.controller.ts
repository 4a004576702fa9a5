import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { UpstreamModelsResult, UpstreamTestResult } from '#contracts';
import { AdminGuard } from '../auth/admin-auth.guard.ts';
import { ApiError } from '../common/api-error.ts';
import { originOf, restoreUrlCredentials } from '../common/redact.ts';
import { ApiAdminAuth, ApiErrors, ApiJsonResponse, DOC_TAGS } from '../openapi/decorators.ts';
import { readUpstreamModels, testUpstreamKeys, type TrialKey, type TrialTarget } from '../providers/custom/upstream-trial.ts';
import { ProviderRegistry, type ProviderState } from '../providers/provider-registry.service.ts';
import { UpstreamHttp } from '../providers/upstream-http.ts';
import { UpstreamTestDto, UpstreamTrialDto } from './providers-admin.dto.ts';

/**
 * A URL as the form sends it: credentials shown as `****` stand for the saved upstream's, on the
 * same origin only (as a save treats them); a mask that cannot be restored is refused.
 */
function restored(sent: string, field: string, saved: string | undefined): string {
  const url = restoreUrlCredentials(sent, saved);
  if (url === undefined) {
    throw ApiError.badRequest(
      `Invalid value for '${field}': it holds the **** the API shows instead of the credentials; send the URL with them in full.`,
      field,
      'credentials_hidden',
    );
  }
  return url;
}

/** The saved upstream's keys, for the host they were entered for (its pool holds only those). */
function savedKeys(p: ProviderState): TrialKey[] {
  return p.keys.view().flatMap((v) => {
    const value = p.keys.get(v.id)?.value;
    return value === undefined ? [] : [{ value, source: v.source }];
  });
}

/** 读取模型列表 and 测试 of the console's upstream form: an upstream tried before (or after) it is saved. */
@ApiTags(DOC_TAGS.providers)
@ApiAdminAuth()
@Controller('api/upstreams')
@UseGuards(AdminGuard)
export class UpstreamTrialController {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly http: UpstreamHttp,
  ) {}

  @Post('models')
  @HttpCode(200)
  @ApiOperation({
    summary: '读取上游的模型列表',
    description:
      '用表单中的地址与密钥（或正在编辑的已保存上游在同一主机上的第一个密钥）请求上游的 `/models`，返回模型 id（最多 2000 个），15 秒超时。' +
      '密钥只发给它所属的主机：地址改到另一个主机时，只用表单中输入的密钥。上游失败时 HTTP 状态仍为 200，`ok: false` 并给出上游的状态码、错误代码与原文（密钥已掩码）。',
  })
  @ApiJsonResponse('UpstreamModelsResult', '上游的模型 id，或失败的原因。')
  @ApiErrors([400, 401, 404], { 400: '地址不是 http(s) URL，或其中的 `****` 无法还原（`code: credentials_hidden`）。', 404: '`name` 不是已保存的上游。' })
  models(@Body() dto: UpstreamTrialDto): Promise<UpstreamModelsResult> {
    return readUpstreamModels(this.target(dto), this.http);
  }

  @Post('test')
  @HttpCode(200)
  @ApiOperation({
    summary: '测试上游（每个密钥）',
    description:
      '用每个密钥（表单中输入的，以及正在编辑的已保存上游在同一主机上的密钥，最多 20 个）向上游发一个只生成 1 个 token 的对话，各自 15 秒超时，' +
      '返回每个密钥（掩码）的结果：成功与否、上游的 HTTP 状态码、耗时、错误代码与上游的错误原文。没有密钥时不带密钥发一次。不影响密钥的冷却状态。',
  })
  @ApiJsonResponse('UpstreamTestResult', '每个密钥的测试结果（失败时 `ok: false`，HTTP 状态仍为 200）。')
  @ApiErrors([400, 401, 404], {
    400: '地址不是 http(s) URL、缺少 `model`，或地址中的 `****` 无法还原（`code: credentials_hidden`）。',
    404: '`name` 不是已保存的上游。',
  })
  test(@Body() dto: UpstreamTestDto): Promise<UpstreamTestResult> {
    return testUpstreamKeys(this.target(dto), dto.model.trim(), this.http);
  }

  private target(dto: UpstreamTrialDto): TrialTarget {
    const saved = dto.name === undefined ? undefined : this.saved(dto.name);
    const baseUrl = restored(dto.baseUrl.trim(), 'baseUrl', saved?.baseUrl).replace(/\/+$/, '');
    const proxy = dto.proxy ? restored(dto.proxy.trim(), 'proxy', saved?.proxy) : undefined;
    const keys: TrialKey[] = [];
    if (dto.key?.trim()) keys.push({ value: dto.key.trim(), source: 'entered' });
    // The saved keys never go to another host, as a save that moves the upstream refuses to send them.
    if (saved && originOf(baseUrl) === saved.origin) keys.push(...savedKeys(saved).filter((k) => k.value !== keys[0]?.value));
    return { baseUrl, proxy, keys };
  }

  private saved(name: string): ProviderState {
    const p = this.registry.find(name);
    if (!p?.custom) throw new ApiError(404, `No upstream named \`${name}\`.`, 'not_found_error', 'provider_not_found', 'name');
    return p;
  }
}
