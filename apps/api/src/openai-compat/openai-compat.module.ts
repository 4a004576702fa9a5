import { Module } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';
import { CacheModule } from '../cache/cache.module.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { ClientKeysModule } from '../client-keys/client-keys.module.ts';
import { LifecycleModule } from '../lifecycle/lifecycle.module.ts';
import { MediaModule } from '../media/media.module.ts';
import { ModelsModule } from '../models/models.module.ts';
import { ProvidersModule } from '../providers/providers.module.ts';
import { RoutingModule } from '../routing/routing.module.ts';
import { ApiKeyGuard } from './api-key.guard.ts';
import { ChatResponder } from './chat-responder.service.ts';
import { ChatController } from './chat.controller.ts';
import { ChatService } from './chat.service.ts';
import { EmbeddingsResponder } from './embeddings-responder.service.ts';
import { EmbeddingsController } from './embeddings.controller.ts';
import { EmbeddingsService } from './embeddings.service.ts';
import { ImagesResponder } from './images-responder.service.ts';
import { ImagesController } from './images.controller.ts';
import { ImagesService } from './images.service.ts';
import { KeyBillingController } from './key-billing.controller.ts';
import { MessagesController } from './messages.controller.ts';
import { MessagesService } from './messages.service.ts';
import { ModelsController } from './models.controller.ts';
import { ResponsesResponder } from './responses-responder.service.ts';
import { ResponsesStore } from './responses-store.ts';
import { ResponsesController } from './responses.controller.ts';
import { RunResponder } from './run-responder.service.ts';
import { SpeechController } from './speech.controller.ts';
import { SpeechService } from './speech.service.ts';
import { TranscriptionsController } from './transcriptions.controller.ts';
import { TranscriptionsResponder } from './transcriptions-responder.service.ts';
import { UploadsInFlight } from './upload-slots.interceptor.ts';
import { TranscriptionsService } from './transcriptions.service.ts';

/**
 * Bounds on a transcription upload as multer reads it (memory storage): one file of at most
 * TRANSCRIPTION_MAX_BYTES and a few short text fields; anything past them is a 413 or a 400.
 * Exported: the console's transcription playground reads its uploads with the same bounds.
 */
const transcriptionUploads = MulterModule.registerAsync({
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig) => ({
    limits: { fileSize: config.transcriptions.maxFileBytes, files: 1, fields: 16, fieldSize: 64 * 1024, fieldNameSize: 100, parts: 20, headerPairs: 20 },
  }),
});

/**
 * The OpenAI-compatible front doors under /v1 (chat, images, speech, embeddings, transcriptions, models), the client-key
 * guard on them, and the responders the admin playground reuses so that it answers exactly like /v1.
 */
@Module({
  imports: [ClientKeysModule, ProvidersModule, ModelsModule, RoutingModule, MediaModule, LifecycleModule, CacheModule, transcriptionUploads],
  controllers: [
    ChatController,
    ImagesController,
    SpeechController,
    ModelsController,
    MessagesController,
    ResponsesController,
    EmbeddingsController,
    TranscriptionsController,
    KeyBillingController,
  ],
  providers: [
    ChatService,
    UploadsInFlight,
    RunResponder,
    ChatResponder,
    ImagesService,
    ImagesResponder,
    SpeechService,
    ApiKeyGuard,
    MessagesService,
    ResponsesStore,
    ResponsesResponder,
    EmbeddingsService,
    EmbeddingsResponder,
    TranscriptionsService,
    TranscriptionsResponder,
  ],
  exports: [ChatResponder, ImagesResponder, EmbeddingsResponder, TranscriptionsResponder, UploadsInFlight, transcriptionUploads],
})
export class OpenAICompatModule {}
