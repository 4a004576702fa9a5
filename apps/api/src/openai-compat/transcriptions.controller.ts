import { Body, Controller, HttpCode, Post, Req, Res, UploadedFile, UseGuards, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiClientKeyAuth, DOC_TAGS } from '../openapi/decorators.ts';
import { ApiTranscriptionOperation } from '../openapi/openai-docs.ts';
import { ApiKeyGuard, type ClientKeyRequest } from './api-key.guard.ts';
import { TranscriptionRequestDto } from './transcription-request.dto.ts';
import { TranscriptionsResponder } from './transcriptions-responder.service.ts';
import type { UploadedAudio } from './transcriptions.service.ts';
import { UploadSlots } from './upload-slots.interceptor.ts';

@ApiTags(DOC_TAGS.audio)
@ApiClientKeyAuth()
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class TranscriptionsController {
  constructor(private readonly responder: TranscriptionsResponder) {}

  /**
   * Multipart, read by multer with the limits of OpenAICompatModule's MulterModule (TRANSCRIPTION_MAX_BYTES),
   * at most TRANSCRIPTION_MAX_CONCURRENT at once (UploadSlots).
   */
  @Post('audio/transcriptions')
  @HttpCode(200)
  @UseInterceptors(UploadSlots, FileInterceptor('file'))
  @ApiTranscriptionOperation()
  create(
    @Body() dto: TranscriptionRequestDto,
    @UploadedFile() file: UploadedAudio | undefined,
    @Req() req: ClientKeyRequest,
    @Res() res: Response,
  ): Promise<void> {
    return this.responder.respond(dto, file, req, res);
  }
}
