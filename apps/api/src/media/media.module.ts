import { Module } from '@nestjs/common';
import { ImageFilesController } from './image-files.controller.ts';
import { ImageStore } from './image-store.ts';

/** Generated media the gateway hosts itself (image URLs). Needs APP_CONFIG, which is global. */
@Module({
  controllers: [ImageFilesController],
  providers: [ImageStore],
  exports: [ImageStore],
})
export class MediaModule {}
