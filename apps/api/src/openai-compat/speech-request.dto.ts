import { IsIn, IsNotEmpty, IsNumber, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { SPEECH_FORMATS } from '../media/media-bytes.ts';

export const SPEECH_VOICES = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'onyx', 'nova', 'sage', 'shimmer', 'verse'] as const;
export const MAX_SPEECH_INPUT = 4096;

const oneOf = (values: readonly string[]) => ({ message: `$property must be one of ${values.join(', ')}` });

/** `POST /v1/audio/speech`: OpenAI's body plus the gateway's `provider`. */
export class SpeechRequestDto {
  @IsString()
  @IsNotEmpty()
  model!: string;

  @IsString()
  @IsNotEmpty({ message: '$property must not be empty' })
  @MaxLength(MAX_SPEECH_INPUT, { message: `$property must be at most ${MAX_SPEECH_INPUT} characters` })
  input!: string;

  @IsIn(SPEECH_VOICES, oneOf(SPEECH_VOICES))
  voice!: (typeof SPEECH_VOICES)[number];

  @IsOptional()
  @IsIn(SPEECH_FORMATS, oneOf(SPEECH_FORMATS))
  response_format?: (typeof SPEECH_FORMATS)[number];

  @IsOptional()
  @IsNumber()
  @Min(0.25)
  @Max(4)
  speed?: number;

  @IsOptional()
  @IsString()
  @MaxLength(MAX_SPEECH_INPUT, { message: `$property must be at most ${MAX_SPEECH_INPUT} characters` })
  instructions?: string;

  /** Only whole audio files: the SSE stream format is not offered. */
  @IsOptional()
  @IsIn(['audio'], { message: '$property must be "audio": this gateway does not stream speech as SSE' })
  stream_format?: 'audio';

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  provider?: string;
}
