import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
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
  type ValidationOptions,
} from 'class-validator';

/** Most stop sequences one request may carry: the OpenAI-compatible upstreams take at most 4. */
export const MAX_STOP_SEQUENCES = 4;
/** Most tools one request may declare. */
export const MAX_TOOLS = 128;

const TOOL_CHOICES = ['auto', 'any', 'tool', 'none'];

/** A string, or an array of content blocks each an object with a string `type` (checked in detail by the translation). */
function IsBlocks(what: string, options?: ValidationOptions): PropertyDecorator {
  return (target: object, property: string | symbol) =>
    registerDecorator({
      name: 'isBlocks',
      target: target.constructor,
      propertyName: String(property),
      options: { message: `$property must be a string or an array of ${what} blocks`, ...options },
      validator: {
        validate: (v: unknown) =>
          typeof v === 'string' ||
          (Array.isArray(v) && v.every((b) => typeof b === 'object' && b !== null && !Array.isArray(b) && typeof (b as { type?: unknown }).type === 'string')),
      },
    });
}

/** `tool_choice`: `{type: "auto" | "any" | "tool" | "none"}`, with `name` for "tool". */
function IsMessagesToolChoice(options?: ValidationOptions): PropertyDecorator {
  return (target: object, property: string | symbol) =>
    registerDecorator({
      name: 'isMessagesToolChoice',
      target: target.constructor,
      propertyName: String(property),
      options: { message: '$property must be {"type": "auto" | "any" | "none"} or {"type": "tool", "name": "…"}', ...options },
      validator: {
        validate(v: unknown) {
          if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
          const { type, name } = v as { type?: unknown; name?: unknown };
          if (typeof type !== 'string' || !TOOL_CHOICES.includes(type)) return false;
          return type !== 'tool' || (typeof name === 'string' && name.length > 0);
        },
      },
    });
}

export class AnthropicMessageDto {
  @IsIn(['user', 'assistant'], { message: '$property must be one of user, assistant' })
  role!: 'user' | 'assistant';

  @IsBlocks('content')
  content!: string | Array<Record<string, unknown>>;
}

// The fields create and count_tokens share, each one composed decorator (the fast validation path
// does not follow class inheritance, so the two DTOs are separate classes).
const Model = () => applyDecorators(IsString(), IsNotEmpty());
const Messages = () =>
  applyDecorators(
    IsArray(),
    ArrayMinSize(1, { message: '$property must contain at least one message' }),
    ValidateNested({ each: true }),
    Type(() => AnthropicMessageDto),
  );
const System = () => applyDecorators(IsOptional(), IsBlocks('text'));
const Tools = () =>
  applyDecorators(IsOptional(), IsArray(), ArrayMaxSize(MAX_TOOLS), IsObject({ each: true, message: '$property must be an array of tool objects' }));
const ToolChoice = () => applyDecorators(IsOptional(), IsMessagesToolChoice());
const Thinking = () => applyDecorators(IsOptional(), IsObject());

/** `POST /v1/messages`: Anthropic's request, checked before any provider is tried. */
export class CreateMessageDto {
  @Model()
  model!: string;

  @Messages()
  messages!: AnthropicMessageDto[];

  @IsInt()
  @Min(1)
  max_tokens!: number;

  @System()
  system?: string | Array<Record<string, unknown>>;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_STOP_SEQUENCES, { message: `$property must contain at most ${MAX_STOP_SEQUENCES} sequences` })
  @IsString({ each: true })
  stop_sequences?: string[];

  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  temperature?: number;

  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  top_p?: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  top_k?: number;

  @IsOptional()
  @IsBoolean()
  stream?: boolean;

  @Tools()
  tools?: Array<Record<string, unknown>>;

  @ToolChoice()
  tool_choice?: { type: string; name?: string; disable_parallel_tool_use?: boolean };

  @Thinking()
  thinking?: Record<string, unknown>;

  @IsOptional()
  @IsObject()
  metadata?: { user_id?: unknown };

  /** Gateway extension, as on chat: only this provider. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  provider?: string;
}

/** `POST /v1/messages/count_tokens`: the prompt part of a create request. */
export class CountMessageTokensDto {
  @Model()
  model!: string;

  @Messages()
  messages!: AnthropicMessageDto[];

  @System()
  system?: string | Array<Record<string, unknown>>;

  @Tools()
  tools?: Array<Record<string, unknown>>;

  @ToolChoice()
  tool_choice?: { type: string; name?: string };

  @Thinking()
  thinking?: Record<string, unknown>;
}
