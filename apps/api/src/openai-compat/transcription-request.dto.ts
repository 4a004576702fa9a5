import { IsIn, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { TRANSCRIPTION_FORMATS, type TranscriptionFormat } from './transcription-format.ts';

export const MAX_TRANSCRIPTION_PROMPT = 4096;

/**
 * `POST /v1/audio/transcriptions`: the text fields of OpenAI's multipart form (every value
 * arrives as a string) plus the gateway's `provider`; the `file` part is read by multer.
 */
export class TranscriptionRequestDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  model!: string;

  @IsOptional()
  @IsString()
  @Matches(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})?$/, { message: '$property must be an ISO-639-1 language code such as en or zh' })
  language?: string;

  @IsOptional()
  @IsString()
  @MaxLength(MAX_TRANSCRIPTION_PROMPT, { message: `$property must be at most ${MAX_TRANSCRIPTION_PROMPT} characters` })
  prompt?: string;

  /** A number from 0 to 1, as form text; the service parses it. */
  @IsOptional()
  @IsString()
  @Matches(/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/, { message: '$property must be a number from 0 to 1' })
  temperature?: string;

  @IsOptional()
  @IsIn(TRANSCRIPTION_FORMATS, { message: `$property must be one of ${TRANSCRIPTION_FORMATS.join(', ')}` })
  response_format?: TranscriptionFormat;

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  provider?: string;
}
