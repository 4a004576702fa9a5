import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min, registerDecorator, type ValidationOptions } from 'class-validator';

export const IMAGE_RESPONSE_FORMATS = ['url', 'b64_json'] as const;
export const IMAGE_QUALITIES = ['standard', 'hd', 'low', 'medium', 'high', 'auto'] as const;
export const IMAGE_STYLES = ['vivid', 'natural'] as const;
/** Smallest and largest side a `WIDTHxHEIGHT` size may ask for. */
export const MIN_IMAGE_SIDE = 64;
export const MAX_IMAGE_SIDE = 4096;
/** Used when a request names no model (OpenAI's own default, dall-e-2, is not in the pool). */
export const DEFAULT_IMAGE_MODEL = 'flux';
export const DEFAULT_IMAGE_SIZE = '1024x1024';

/** "1024x1024" → {width, height}; "auto" is the default size; undefined when not a size. */
export function parseImageSize(size: string): { width: number; height: number } | undefined {
  const m = /^(\d{1,5})x(\d{1,5})$/.exec(size === 'auto' ? DEFAULT_IMAGE_SIZE : size);
  if (!m) return undefined;
  const width = Number(m[1]);
  const height = Number(m[2]);
  const ok = (n: number) => n >= MIN_IMAGE_SIDE && n <= MAX_IMAGE_SIDE;
  return ok(width) && ok(height) ? { width, height } : undefined;
}

function IsImageSize(options?: ValidationOptions) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'isImageSize',
      target: target.constructor,
      propertyName: property,
      options: {
        message: `$property must be "auto" or WIDTHxHEIGHT with each side from ${MIN_IMAGE_SIDE} to ${MAX_IMAGE_SIDE} (e.g. "1024x1024", "1792x1024")`,
        ...options,
      },
      validator: { validate: (v: unknown) => typeof v === 'string' && parseImageSize(v) !== undefined },
    });
}

const oneOf = (values: readonly string[]) => ({ message: `$property must be one of ${values.join(', ')}` });

/** `POST /v1/images/generations`: OpenAI's body plus the gateway's `provider`, and `seed`/`steps`/`negative_prompt` for open models. */
export class ImageGenerationRequestDto {
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  model?: string;

  @IsString()
  @IsNotEmpty({ message: '$property must not be empty' })
  @MaxLength(32_000)
  prompt!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10)
  n?: number;

  @IsOptional()
  @IsString()
  @IsImageSize()
  size?: string;

  @IsOptional()
  @IsIn(IMAGE_RESPONSE_FORMATS, oneOf(IMAGE_RESPONSE_FORMATS))
  response_format?: (typeof IMAGE_RESPONSE_FORMATS)[number];

  @IsOptional()
  @IsIn(IMAGE_QUALITIES, oneOf(IMAGE_QUALITIES))
  quality?: (typeof IMAGE_QUALITIES)[number];

  @IsOptional()
  @IsIn(IMAGE_STYLES, oneOf(IMAGE_STYLES))
  style?: (typeof IMAGE_STYLES)[number];

  @IsOptional()
  @IsString()
  user?: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  seed?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  steps?: number;

  @IsOptional()
  @IsString()
  negative_prompt?: string;

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  provider?: string;
}
