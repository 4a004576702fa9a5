import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { RequestLogPage, StatsBreakdownDimension, StatsGranularity, StatsRange, StatsResponse } from '#contracts';
import { AdminGuard } from '../auth/admin-auth.guard.ts';
import { ApiError } from '../common/api-error.ts';
import { ApiAdminAuth, ApiErrors, ApiJsonResponse, DOC_TAGS } from '../openapi/decorators.ts';
import type { LogFilter } from '../storage/storage.ts';
import { DEFAULT_PAGE_SIZE, LogsQueryDto, StatsQueryDto, parseIntParam, parseStatusParam, parseTimeParam } from './stats-query.dto.ts';
import { RANGE_MS, STATS_RETENTION_MS, StatsService, defaultGranularity } from './stats.service.ts';

/** '' and absent are the same: no value. */
const given = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

@ApiTags(DOC_TAGS.stats)
@ApiAdminAuth()
@Controller('api')
@UseGuards(AdminGuard)
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  /** Totals, a time series and breakdowns per provider, model and client key. */
  @Get('stats')
  @ApiOperation({
    summary: '请求统计',
    description:
      '一段时间（`range`，截至现在）内的汇总（请求数、成功率、token、延迟与首字延迟的分位数）、按时间桶的序列，以及按提供商、模型、客户端密钥的细分；`dimension` 另给出该维度前 10 个值各自的序列。包含尚未写入存储的请求，数据是实时的。',
  })
  @ApiJsonResponse('StatsResponse', '统计报表。')
  @ApiErrors([400, 401], { 400: '包括：`granularity=minute` 时 `range` 超过分钟桶的保留期（48 小时）。' })
  getStats(@Query() query: StatsQueryDto): Promise<StatsResponse> {
    const range = (given(query.range) ?? '24h') as StatsRange;
    const granularity = (given(query.granularity) as StatsGranularity | undefined) ?? defaultGranularity(range);
    if (RANGE_MS[range] > STATS_RETENTION_MS[granularity]) {
      throw ApiError.badRequest(
        `Invalid value for 'granularity': ${granularity} buckets are kept ${STATS_RETENTION_MS[granularity] / 3_600_000} h, too short for range ${range}; use granularity=hour.`,
        'granularity',
        'invalid_value',
      );
    }
    const dimension = (given(query.dimension) as StatsBreakdownDimension | undefined) ?? null;
    return this.stats.stats({ range, granularity, dimension });
  }

  /** The request log, newest first, with every attempt of each request. */
  @Get('logs')
  @ApiOperation({ summary: '请求日志', description: '请求日志，新的在前，可按时间、模型、提供商、状态、客户端密钥筛选并分页；每条记录列出全部上游尝试。' })
  @ApiJsonResponse('RequestLogPage', '一页请求日志。')
  @ApiErrors([400, 401])
  getLogs(@Query() query: LogsQueryDto): Promise<RequestLogPage> {
    const filter: LogFilter = {};
    const from = given(query.from);
    const to = given(query.to);
    if (from !== undefined) filter.from = parseTimeParam(from);
    if (to !== undefined) filter.to = parseTimeParam(to);
    if (filter.from !== undefined && filter.to !== undefined && filter.from > filter.to) {
      throw ApiError.badRequest("Invalid value for 'from': it is after 'to'.", 'from', 'invalid_value');
    }
    const status = given(query.status);
    if (status !== undefined) filter.status = parseStatusParam(status);
    for (const name of ['model', 'provider', 'clientKey'] as const) {
      const value = given(query[name]);
      if (value !== undefined) filter[name] = value;
    }
    const page = given(query.page) === undefined ? 1 : parseIntParam(query.page!);
    const pageSize = given(query.pageSize) === undefined ? DEFAULT_PAGE_SIZE : parseIntParam(query.pageSize!);
    return this.stats.logs(filter, page, pageSize);
  }
}
