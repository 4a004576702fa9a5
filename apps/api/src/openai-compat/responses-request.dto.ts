import {
  IsArray,
  IsBoolean,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  registerDecorator,
  type ValidationOptions,
} from 'class-validator';

/** OpenAI's bounds on `metadata`: 16 pairs, keys up to 64 characters, values up to 512. */
export const MAX_METADATA_PAIRS = 16;
const MAX_METADATA_KEY = 64;
const MAX_METADATA_VALUE = 512;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function custom(name: string, message: string, validate: (v: unknown) => boolean) {
  return (options?: ValidationOptions) => (target: object, property: string) =>
    registerDecorator({ name, target: target.constructor, propertyName: property, options: { message, ...options }, validator: { validate } });
}

/** `input`: a string, or an array of item objects (checked one by one when translated). */
const IsResponsesInput = custom(
  'isResponsesInput',
  '$property must be a string or an array of input items (objects)',
  (v) => typeof v === 'string' || (Array.isArray(v) && v.every(isPlainObject)),
);

/** `tool_choice`: "none" | "auto" | "required" | an object naming a tool. */
const IsResponsesToolChoice = custom(
  'isResponsesToolChoice',
  '$property must be "none", "auto", "required" or an object naming a tool',
  (v) => (typeof v === 'string' && ['none', 'auto', 'required'].includes(v)) || isPlainObject(v),
);

const IsMetadata = custom(
  'isMetadata',
  `$property must be an object of at most ${MAX_METADATA_PAIRS} string values (keys up to ${MAX_METADATA_KEY} characters, values up to ${MAX_METADATA_VALUE})`,
  (v) =>
    isPlainObject(v) &&
    Object.keys(v).length <= MAX_METADATA_PAIRS &&
    Object.entries(v).every(([k, value]) => k.length <= MAX_METADATA_KEY && typeof value === 'string' && value.length <= MAX_METADATA_VALUE),
);

/**
 * The checks a `POST /v1/responses` body must pass before anything is looked up. Items, tools
 * and formats are checked field by field when translated (responses-translate.ts), where a
 * refusal can name the exact param (`input[2].content`, `tools[0].type`). Unknown fields are
 * accepted and not forwarded.
 */
export class ResponsesRequestDto {
  @IsString()
  @IsNotEmpty()
  model!: string;

  @IsOptional()
  @IsResponsesInput()
  input?: string | Record<string, unknown>[];

  @IsOptional()
  @IsString()
  instructions?: string;

  @IsOptional()
  @IsArray()
  @IsObject({ each: true, message: '$property must be an array of tool objects' })
  tools?: Record<string, unknown>[];

  @IsOptional()
  @IsResponsesToolChoice()
  tool_choice?: unknown;

  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(2)
  temperature?: number;

  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  top_p?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  max_output_tokens?: number;

  @IsOptional()
  @IsObject()
  text?: { format?: unknown; [key: string]: unknown };

  /** Accepted and echoed; not every upstream takes a reasoning effort, so it is not forwarded. */
  @IsOptional()
  @IsObject()
  reasoning?: { effort?: unknown; summary?: unknown; [key: string]: unknown };

  @IsOptional()
  @IsBoolean()
  stream?: boolean;

  @IsOptional()
  @IsBoolean()
  store?: boolean;

  @IsOptional()
  @IsString()
  @Matches(/^resp_[A-Za-z0-9_-]{1,100}$/, { message: '$property must be a response id (resp_…)' })
  previous_response_id?: string;

  @IsOptional()
  @IsMetadata()
  metadata?: Record<string, string>;

  @IsOptional()
  @IsString()
  @MaxLength(256)
  user?: string;

  @IsOptional()
  @IsBoolean()
  parallel_tool_calls?: boolean;

  /** Gateway extension, as on chat: only this provider, no failover. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  provider?: string;
}
