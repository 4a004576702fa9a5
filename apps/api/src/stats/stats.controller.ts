import { Controller, Get, Logger, Param, Query, Res, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type {
  KeyUsageResponse,
  ProviderModelStats,
  RequestLogPage,
  StatsBreakdownDimension,
  StatsBreakdownResponse,
  StatsGranularity,
  StatsRange,
  StatsResponse,
} from '#contracts';
import { AdminGuard } from '../auth/admin-auth.guard.ts';
import { ApiError } from '../common/api-error.ts';
import { ApiAdminAuth, ApiErrors, ApiJsonResponse, DOC_TAGS } from '../openapi/decorators.ts';
import { truncate } from '../events/record-bounds.ts';
import type { LogFilter } from '../storage/storage.ts';
import { EXPORT_CONTENT_TYPES, type ExportFormat, writeAll } from './log-export.ts';
import {
  BreakdownQueryDto,
  DEFAULT_PAGE_SIZE,
  KeyUsageQueryDto,
  LogsExportQueryDto,
  LogsQueryDto,
  ProviderModelsQueryDto,
  StatsQueryDto,
  parseIntParam,
  parseStatusParam,
  parseTimeParam,
} from './stats-query.dto.ts';
import { BREAKDOWN_DEFAULT_LIMIT, RANGE_MS, STATS_RETENTION_MS, StatsService, defaultGranularity } from './stats.service.ts';

/** '' and absent are the same: no value. */
const given = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

/** A granularity that keeps its buckets long enough for the range (the default one otherwise). */
function granularityFor(range: StatsRange, asked: string | undefined): StatsGranularity {
  const granularity = (given(asked) as StatsGranularity | undefined) ?? defaultGranularity(range);
  if (RANGE_MS[range] > STATS_RETENTION_MS[granularity]) {
    throw ApiError.badRequest(
      `Invalid value for 'granularity': ${granularity} buckets are kept ${STATS_RETENTION_MS[granularity] / 3_600_000} h, too short for range ${range}; use granularity=hour.`,
      'granularity',
      'invalid_value',
    );
  }
  return granularity;
}

/** The request log filters of /api/logs and its export. */
function logFilterOf(query: Omit<LogsQueryDto, 'page' | 'pageSize'>): LogFilter {
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
  return filter;
}

/** `request-log-20300101-0800.csv`, in UTC. */
function exportFileName(format: ExportFormat, now: number): string {
  const stamp = new Date(now).toISOString().slice(0, 16).replaceAll('-', '').replace(':', '').replace('T', '-');
  return `request-log-${stamp}.${format}`;
}

@ApiTags(DOC_TAGS.stats)
@ApiAdminAuth()
@Controller('api')
@UseGuards(AdminGuard)
export class StatsController {
  private readonly logger = new Logger('Stats');

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
    const granularity = granularityFor(range, query.granularity);
    const dimension = (given(query.dimension) as StatsBreakdownDimension | undefined) ?? null;
    return this.stats.stats({ range, granularity, dimension });
  }

  /** The request log, newest first, with every attempt of each request. */
  @Get('logs')
  @ApiOperation({ summary: '请求日志', description: '请求日志，新的在前，可按时间、模型、提供商、状态、客户端密钥筛选并分页；每条记录列出全部上游尝试。' })
  @ApiJsonResponse('RequestLogPage', '一页请求日志。')
  @ApiErrors([400, 401])
  getLogs(@Query() query: LogsQueryDto): Promise<RequestLogPage> {
    const filter = logFilterOf(query);
    const page = given(query.page) === undefined ? 1 : parseIntParam(query.page!);
    const pageSize = given(query.pageSize) === undefined ? DEFAULT_PAGE_SIZE : parseIntParam(query.pageSize!);
    return this.stats.logs(filter, page, pageSize);
  }

  /** One dimension's top values over up to 90 days, the rest summed. */
  @Get('stats/breakdown')
  @ApiOperation({
    summary: '按维度细分的用量',
    description:
      '一段时间（`range`，截至现在，最长 90 天）内按提供商、模型或客户端密钥细分：请求最多的前 `limit` 个值各自的请求数、成功率、输入 / 输出 token 与延迟，其余的合计在 `others`。计数方式与 `/api/stats` 的细分相同（提供商按上游尝试计），包含尚未写入存储的请求。',
  })
  @ApiJsonResponse('StatsBreakdownResponse', '细分结果。')
  @ApiErrors([400, 401])
  getBreakdown(@Query() query: BreakdownQueryDto): Promise<StatsBreakdownResponse> {
    const range = (given(query.range) ?? '24h') as StatsRange;
    const limit = given(query.limit) === undefined ? BREAKDOWN_DEFAULT_LIMIT : parseIntParam(query.limit!);
    return this.stats.breakdown(range, query.dimension as StatsBreakdownDimension, limit);
  }

  /** One provider's success rate and latency per model, for its detail view in the console. */
  @Get('stats/providers/:name/models')
  @ApiOperation({
    summary: '单个提供商按模型的成功率与延迟',
    description:
      '一个提供商（名字不区分大小写）在一段时间内（`range`，截至现在，最长 90 天）对每个模型的上游尝试：请求数、成功率、延迟分位数、token，尝试最多的在前，最多 100 个模型。计数方式与 `/api/stats` 的提供商细分相同（按上游尝试计，冷却中跳过的不计），包含尚未写入存储的请求。',
  })
  @ApiParam({ name: 'name', description: '提供商名字（`/api/providers` 中的 `name`）。' })
  @ApiJsonResponse('ProviderModelStats', '该提供商按模型的统计。')
  @ApiErrors([400, 401])
  getProviderModels(@Param('name') name: string, @Query() query: ProviderModelsQueryDto): Promise<ProviderModelStats> {
    if (name.length > 200) throw ApiError.badRequest("Invalid value for 'name': at most 200 characters.", 'name', 'invalid_value');
    return this.stats.providerModels(name, (given(query.range) ?? '24h') as StatsRange);
  }

  /** One client key's usage over time, for its chart in the console. */
  @Get('stats/keys/:id')
  @ApiOperation({
    summary: '单个客户端密钥的用量',
    description:
      '一个客户端密钥（按 id；已吊销的也可以）在一段时间内（`range`，截至现在，最长 90 天）的汇总与按时间桶的序列：请求数、成功率、输入 / 输出 token、延迟。没有请求的密钥（或不存在的 id）得到全为 0 的序列。',
  })
  @ApiParam({ name: 'id', description: '客户端密钥 id（`/api/keys` 中的 `id`）。' })
  @ApiJsonResponse('KeyUsageResponse', '该密钥的用量。')
  @ApiErrors([400, 401], { 400: '包括：`granularity=minute` 时 `range` 超过分钟桶的保留期（48 小时）。' })
  getKeyUsage(@Param('id') id: string, @Query() query: KeyUsageQueryDto): Promise<KeyUsageResponse> {
    if (id.length > 200) throw ApiError.badRequest("Invalid value for 'id': at most 200 characters.", 'id', 'invalid_value');
    const range = (given(query.range) ?? '24h') as StatsRange;
    return this.stats.keyUsage(id, range, granularityFor(range, query.granularity));
  }

  /** The whole filtered request log as a file, streamed. */
  @Get('logs/export')
  @ApiOperation({
    summary: '导出请求日志',
    description:
      "按与 `/api/logs` 相同的筛选条件导出全部匹配的请求日志（新的在前，不分页），`format=csv` 或 `jsonl`，以附件下载。边读存储边发送，任意大小都只占用很少的内存；客户端读得慢时服务端随之放慢。CSV 中以 `=`、`+`、`-`、`@` 开头的文本前加 `'`，防止表格软件把它当作公式执行。",
  })
  @ApiProduces('text/csv', 'application/x-ndjson')
  @ApiResponse({
    status: 200,
    description: 'CSV（第一行为列名）或 JSON Lines（每行一条与 `/api/logs` 的 `items` 相同的记录）。',
    content: { 'text/csv': { schema: { type: 'string' } }, 'application/x-ndjson': { schema: { type: 'string' } } },
  })
  @ApiErrors([400, 401])
  async exportLogs(@Query() query: LogsExportQueryDto, @Res() res: Response): Promise<void> {
    const format = query.format as ExportFormat;
    const chunks = this.stats.exportLog(logFilterOf(query), format);
    res.status(200).set({
      'content-type': EXPORT_CONTENT_TYPES[format],
      'content-disposition': `attachment; filename="${exportFileName(format, Date.now())}"`,
      'cache-control': 'no-store',
    });
    await writeAll(chunks, res, (err) => this.logger.warn(`A request log export was cut short: ${truncate(err.message ?? String(err), 300)}`));
  }
}
