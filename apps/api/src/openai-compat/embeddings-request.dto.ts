import { Allow, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/** OpenAI's limit on inputs per request. */
export const MAX_EMBEDDING_INPUTS = 2048;
const MAX_DIMENSIONS = 16_384;

/**
 * `POST /v1/embeddings`: OpenAI's body plus the gateway's `provider`. `input`'s four shapes
 * (string, strings, tokens, token arrays) are checked by the service, which says which item is wrong.
 */
export class EmbeddingsRequestDto {
  @IsString()
  @IsNotEmpty()
  model!: string;

  @Allow()
  input!: unknown;

  @IsOptional()
  @IsIn(['float', 'base64'], { message: '$property must be one of float, base64' })
  encoding_format?: 'float' | 'base64';

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_DIMENSIONS)
  dimensions?: number;

  @IsOptional()
  @IsString()
  @MaxLength(256)
  user?: string;

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  provider?: string;
}
