import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res, UploadedFile, UseGuards, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { PlaygroundLimits } from '#contracts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { ApiAdminAuth, ApiErrors, ApiJsonResponse, DOC_TAGS } from '../openapi/decorators.ts';
import {
  ApiEmbeddingsPlaygroundOperation,
  ApiImagePlaygroundOperation,
  ApiPlaygroundOperation,
  ApiTranscriptionPlaygroundOperation,
} from '../openapi/openai-docs.ts';
import { ChatCompletionRequestDto } from '../openai-compat/chat-request.dto.ts';
import { ChatResponder } from '../openai-compat/chat-responder.service.ts';
import { EmbeddingsResponder } from '../openai-compat/embeddings-responder.service.ts';
import { EmbeddingsRequestDto, MAX_EMBEDDING_INPUTS } from '../openai-compat/embeddings-request.dto.ts';
import { ImageGenerationRequestDto } from '../openai-compat/image-request.dto.ts';
import { ImagesResponder } from '../openai-compat/images-responder.service.ts';
import { TranscriptionRequestDto } from '../openai-compat/transcription-request.dto.ts';
import { TranscriptionsResponder } from '../openai-compat/transcriptions-responder.service.ts';
import type { UploadedAudio } from '../openai-compat/transcriptions.service.ts';
import { AdminGuard } from '../auth/admin-auth.guard.ts';
import { UploadSlots } from '../openai-compat/upload-slots.interceptor.ts';

/** The console's chat playground: the same request and answer as /v1/chat/completions, streams included. */
@ApiTags(DOC_TAGS.playground)
@ApiAdminAuth()
@Controller('api/chat')
@UseGuards(AdminGuard)
export class PlaygroundController {
  constructor(private readonly responder: ChatResponder) {}

  @Post('test')
  @HttpCode(200)
  @ApiPlaygroundOperation()
  test(@Body() dto: ChatCompletionRequestDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.responder.respond(dto, req, res);
  }
}

/** The console's image playground: the same request and answer as /v1/images/generations, with the admin session instead of a client key. */
@ApiTags(DOC_TAGS.playground)
@ApiAdminAuth()
@Controller('api/images')
@UseGuards(AdminGuard)
export class ImagePlaygroundController {
  constructor(private readonly responder: ImagesResponder) {}

  @Post('test')
  @HttpCode(200)
  @ApiImagePlaygroundOperation()
  test(@Body() dto: ImageGenerationRequestDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.responder.respond(dto, req, res);
  }
}

/** The console's embeddings playground: the same request and answer as /v1/embeddings, with the admin session instead of a client key. */
@ApiTags(DOC_TAGS.playground)
@ApiAdminAuth()
@Controller('api/embeddings')
@UseGuards(AdminGuard)
export class EmbeddingsPlaygroundController {
  constructor(private readonly responder: EmbeddingsResponder) {}

  @Post('test')
  @HttpCode(200)
  @ApiEmbeddingsPlaygroundOperation()
  test(@Body() dto: EmbeddingsRequestDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.responder.respond(dto, req, res);
  }
}

/**
 * The console's transcription playground: the same form and answer as /v1/audio/transcriptions,
 * with the admin session instead of a client key. The guard runs before multer reads the upload;
 * multer's bounds (TRANSCRIPTION_MAX_BYTES) are OpenAICompatModule's, imported with it.
 */
@ApiTags(DOC_TAGS.playground)
@ApiAdminAuth()
@Controller('api/audio/transcriptions')
@UseGuards(AdminGuard)
export class TranscriptionPlaygroundController {
  constructor(private readonly responder: TranscriptionsResponder) {}

  @Post('test')
  @HttpCode(200)
  @UseInterceptors(UploadSlots, FileInterceptor('file'))
  @ApiTranscriptionPlaygroundOperation()
  test(@Body() dto: TranscriptionRequestDto, @UploadedFile() file: UploadedAudio | undefined, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.responder.respond(dto, file, req, res);
  }
}

/** What the playground checks before it sends: a file over the upload limit is refused in the console, not halfway through its upload. */
@ApiTags(DOC_TAGS.playground)
@ApiAdminAuth()
@Controller('api/playground')
@UseGuards(AdminGuard)
export class PlaygroundLimitsController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Get('limits')
  @ApiOperation({
    summary: '在线对话测试的上限',
    description: '语音识别上传文件的最大字节数（`TRANSCRIPTION_MAX_BYTES`，默认 25 MB）与一次嵌入请求最多的输入条数；管理台在发送前检查。',
  })
  @ApiJsonResponse('PlaygroundLimits', '上限。')
  @ApiErrors([401])
  limits(): PlaygroundLimits {
    return { transcriptionMaxBytes: this.config.transcriptions.maxFileBytes, embeddingMaxInputs: MAX_EMBEDDING_INPUTS };
  }
}
