import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { IsIn, IsString, ValidateBy, ValidateIf, type ValidationOptions } from 'class-validator';
import type { StatsBreakdownDimension, StatsGranularity, StatsRange } from '#contracts';
import { EXPORT_FORMATS } from './log-export.ts';
import { BREAKDOWN_DEFAULT_LIMIT, BREAKDOWN_MAX_LIMIT, RANGE_MS } from './stats.service.ts';

/*
 * Query strings arrive as strings (the global pipe validates, it does not transform): these DTOs
 * check their text and parse* turns it into values. A repeated parameter arrives as an array and
 * fails @IsString; an empty one (`?model=`, as forms send) counts as absent. Messages start with
 * the property name, which the global pipe turns into the param it names.
 */

/** Skips validation of an absent or empty parameter. */
const Optional = (): PropertyDecorator => ValidateIf((_object: object, value: unknown) => value !== undefined && value !== '');

export const STATS_RANGES = Object.keys(RANGE_MS) as StatsRange[];
export const STATS_GRANULARITIES: StatsGranularity[] = ['minute', 'hour'];
export const STATS_DIMENSIONS: StatsBreakdownDimension[] = ['provider', 'model', 'key'];
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;

/** Digits only; NaN otherwise. */
export function parseIntParam(raw: string): number {
  return /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
}

/** Epoch ms (digits) or an ISO 8601 date/time; NaN otherwise. */
export function parseTimeParam(raw: string): number {
  if (/^\d{1,15}$/.test(raw)) return Number(raw);
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw)) return NaN;
  return Date.parse(raw);
}

export type StatusParam = number | 'success' | 'error';

export function parseStatusParam(raw: string): StatusParam | undefined {
  if (raw === 'success' || raw === 'error') return raw;
  const n = parseIntParam(raw);
  return n >= 100 && n <= 599 ? n : undefined;
}

function IsIntText(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isIntText',
      validator: {
        validate: (v: unknown) => typeof v === 'string' && parseIntParam(v) >= min && parseIntParam(v) <= max,
        defaultMessage: () => `$property must be a whole number from ${min} to ${max}`,
      },
    },
    options,
  );
}

function IsTimeText(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isTimeText',
      validator: {
        validate: (v: unknown) => typeof v === 'string' && Number.isFinite(parseTimeParam(v)),
        defaultMessage: () => '$property must be epoch milliseconds or an ISO 8601 date-time (e.g. 2030-01-01T08:00:00Z)',
      },
    },
    options,
  );
}

function IsStatusText(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStatusText',
      validator: {
        validate: (v: unknown) => typeof v === 'string' && parseStatusParam(v) !== undefined,
        defaultMessage: () => '$property must be an HTTP status (100-599), "success" or "error"',
      },
    },
    options,
  );
}

const ONE_OF = (values: readonly string[]) => ({ message: `$property must be one of ${values.join(', ')}` });

export class StatsQueryDto {
  @ApiPropertyOptional({ enum: STATS_RANGES, default: '24h', description: '统计多长时间（截至现在）。' })
  @Optional()
  @IsString()
  @IsIn(STATS_RANGES, ONE_OF(STATS_RANGES))
  range?: string;

  @ApiPropertyOptional({ enum: STATS_GRANULARITIES, description: '时间桶大小；默认 24 小时以内为 `minute`，更长为 `hour`。分钟桶只保留 48 小时。' })
  @Optional()
  @IsString()
  @IsIn(STATS_GRANULARITIES, ONE_OF(STATS_GRANULARITIES))
  granularity?: string;

  @ApiPropertyOptional({ enum: STATS_DIMENSIONS, description: '另外给出这一维度（提供商、模型或客户端密钥）前 10 个值各自的时间序列（`seriesBy`）。' })
  @Optional()
  @IsString()
  @IsIn(STATS_DIMENSIONS, ONE_OF(STATS_DIMENSIONS))
  dimension?: string;
}

/** Epoch ms or an ISO 8601 date-time, as the API document shows a time parameter. */
const TIME_DOC = { type: String, example: '2030-01-01T08:00:00Z' } as const;

export class LogsQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1_000_000, default: 1, description: '页码，从 1 开始。' })
  @Optional()
  @IsString()
  @IsIntText(1, 1_000_000)
  page?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, description: '每页条数。' })
  @Optional()
  @IsString()
  @IsIntText(1, MAX_PAGE_SIZE)
  pageSize?: string;

  @ApiPropertyOptional({ ...TIME_DOC, description: '只看这个时间之后（含）开始的请求：毫秒时间戳或 ISO 8601 时间。' })
  @Optional()
  @IsString()
  @IsTimeText()
  from?: string;

  @ApiPropertyOptional({ ...TIME_DOC, description: '只看这个时间之前（不含）开始的请求：毫秒时间戳或 ISO 8601 时间。' })
  @Optional()
  @IsString()
  @IsTimeText()
  to?: string;

  @ApiPropertyOptional({ description: '只看这个模型（网关模型 id）。' })
  @Optional()
  @IsString()
  model?: string;

  @ApiPropertyOptional({ description: '只看这个提供商完成或尝试过的请求。' })
  @Optional()
  @IsString()
  provider?: string;

  @ApiPropertyOptional({ description: 'HTTP 状态码（100～599），或 `success`（2xx）、`error`（其余）。', example: 'error' })
  @Optional()
  @IsString()
  @IsStatusText()
  status?: string;

  @ApiPropertyOptional({ description: '只看用这个客户端密钥（id）发出的请求。' })
  @Optional()
  @IsString()
  clientKey?: string;
}

/** `GET /api/logs/export`: the log's filters, without paging, and a file format. */
export class LogsExportQueryDto extends OmitType(LogsQueryDto, ['page', 'pageSize'] as const) {
  @ApiProperty({
    enum: EXPORT_FORMATS,
    description: '文件格式：`csv`（带 BOM 的 UTF-8，Excel 可直接打开）或 `jsonl`（每行一条记录，字段与 `/api/logs` 相同）。',
  })
  @IsString()
  @IsIn(EXPORT_FORMATS, ONE_OF(EXPORT_FORMATS))
  format!: string;
}

export class BreakdownQueryDto {
  @ApiProperty({ enum: STATS_DIMENSIONS, description: '按什么细分：提供商、模型或客户端密钥。' })
  @IsString()
  @IsIn(STATS_DIMENSIONS, ONE_OF(STATS_DIMENSIONS))
  dimension!: string;

  @ApiPropertyOptional({ enum: STATS_RANGES, default: '24h', description: '统计多长时间（截至现在），最长 90 天。' })
  @Optional()
  @IsString()
  @IsIn(STATS_RANGES, ONE_OF(STATS_RANGES))
  range?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: BREAKDOWN_MAX_LIMIT,
    default: BREAKDOWN_DEFAULT_LIMIT,
    description: '列出请求最多的前几个值；其余合计在 `others` 中。',
  })
  @Optional()
  @IsString()
  @IsIntText(1, BREAKDOWN_MAX_LIMIT)
  limit?: string;
}

/** `GET /api/stats/keys/{id}`: a range and a granularity, as for /api/stats. */
export class KeyUsageQueryDto extends OmitType(StatsQueryDto, ['dimension'] as const) {}

/** `GET /api/stats/providers/{name}/models`: a range, as for /api/stats. */
export class ProviderModelsQueryDto extends OmitType(StatsQueryDto, ['dimension', 'granularity'] as const) {}
