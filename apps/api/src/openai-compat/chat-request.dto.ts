import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateNested,
  registerDecorator,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';
import type { ContentPart, Role } from '#contracts';

const ROLES: Role[] = ['system', 'developer', 'user', 'assistant', 'tool', 'function'];

/** A string, null, or an array of content parts each with a string `type`. */
function IsMessageContent(options?: ValidationOptions) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'isMessageContent',
      target: target.constructor,
      propertyName: property,
      options: { message: '$property must be a string or an array of content parts', ...options },
      validator: {
        validate(value: unknown, args: ValidationArguments) {
          if (value === undefined || value === null) return (args.object as { role?: string }).role !== 'user';
          if (typeof value === 'string') return true;
          return Array.isArray(value) && value.every((p: ContentPart) => typeof p === 'object' && p !== null && typeof p.type === 'string');
        },
      },
    });
}

/** ValidateNested alone takes an array of arrays of messages (`[[]]` passes): items that are arrays are refused. */
function HasNoArrayItems(options?: ValidationOptions) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'hasNoArrayItems',
      target: target.constructor,
      propertyName: property,
      options: { message: '$property must be an array of message objects, not of arrays', ...options },
      validator: { validate: (v: unknown) => !Array.isArray(v) || !v.some((item) => Array.isArray(item)) },
    });
}

/** `stop`: a string or up to 4 strings. */
function IsStop(options?: ValidationOptions) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'isStop',
      target: target.constructor,
      propertyName: property,
      options: { message: '$property must be a string or an array of up to 4 strings', ...options },
      validator: {
        validate: (v: unknown) => typeof v === 'string' || (Array.isArray(v) && v.length <= 4 && v.every((s) => typeof s === 'string')),
      },
    });
}

/** `tool_choice`: "none" | "auto" | "required" | {type, function:{name}}. */
function IsToolChoice(options?: ValidationOptions) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'isToolChoice',
      target: target.constructor,
      propertyName: property,
      options: { message: '$property must be "none", "auto", "required" or an object naming a tool', ...options },
      validator: {
        validate: (v: unknown) =>
          (typeof v === 'string' && ['none', 'auto', 'required'].includes(v)) || (typeof v === 'object' && v !== null && !Array.isArray(v)),
      },
    });
}

export class ChatMessageDto {
  @IsIn(ROLES, { message: `$property must be one of ${ROLES.join(', ')}` })
  role!: Role;

  @IsMessageContent()
  content?: string | ContentPart[] | null;

  @IsOptional()
  @IsString()
  name?: string;

  // Each an object: `[null]` has no place in a request (and once crashed usage counting).
  @IsOptional()
  @IsArray()
  @IsObject({ each: true, message: '$property must be an array of tool call objects' })
  tool_calls?: unknown[];

  @IsOptional()
  @IsString()
  tool_call_id?: string;
}

/** The checks a request must pass before any provider is tried. Unknown fields pass through. */
export class ChatCompletionRequestDto {
  @IsString()
  @IsNotEmpty()
  model!: string;

  @IsArray()
  @ArrayMinSize(1, { message: '$property must contain at least one message' })
  @HasNoArrayItems()
  @ValidateNested({ each: true })
  @Type(() => ChatMessageDto)
  messages!: ChatMessageDto[];

  @IsOptional()
  @IsBoolean()
  stream?: boolean;

  @IsOptional()
  @IsObject()
  stream_options?: { include_usage?: boolean };

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  provider?: string;

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
  max_tokens?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  max_completion_tokens?: number;

  @IsOptional()
  @IsStop()
  stop?: string | string[];

  @IsOptional()
  @IsInt()
  seed?: number;

  @IsOptional()
  @IsNumber()
  @Min(-2)
  @Max(2)
  presence_penalty?: number;

  @IsOptional()
  @IsNumber()
  @Min(-2)
  @Max(2)
  frequency_penalty?: number;

  @IsOptional()
  @IsString()
  user?: string;

  @IsOptional()
  @IsArray()
  tools?: unknown[];

  @IsOptional()
  @IsToolChoice()
  tool_choice?: unknown;

  @IsOptional()
  @IsObject()
  response_format?: unknown;

  /** Only one choice is produced; n > 1 would silently drop answers, so it is refused. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1, { message: '$property must be 1: this gateway returns one choice per request' })
  n?: number;
}
