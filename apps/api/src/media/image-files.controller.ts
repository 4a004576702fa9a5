import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiError } from '../common/api-error.ts';
import { DOC_TAGS } from '../docs/decorators.ts';
import { ApiImageFileOperation } from '../docs/openai-docs.ts';
import { ImageStore } from './image-store.ts';

/**
 * Serves stored images without an API key: clients embed these URLs in pages and chats, so
 * the unguessable file name is the capability, as with OpenAI's own image URLs.
 */
@ApiTags(DOC_TAGS.images)
@Controller('v1/images/files')
export class ImageFilesController {
  constructor(private readonly store: ImageStore) {}

  @Get(':file')
  @ApiImageFileOperation()
  async file(@Param('file') file: string, @Res() res: Response): Promise<void> {
    const image = await this.store.read(file);
    if (!image) {
      throw new ApiError(404, `The image \`${file.slice(0, 80)}\` does not exist or its URL has expired.`, 'invalid_request_error', 'image_not_found');
    }
    const maxAge = Math.max(0, Math.floor((image.expiresAt - Date.now()) / 1000));
    res.setHeader('content-type', image.mime);
    res.setHeader('content-length', String(image.data.length));
    res.setHeader('cache-control', `public, max-age=${maxAge}, immutable`);
    res.setHeader('expires', new Date(image.expiresAt).toUTCString());
    res.setHeader('x-content-type-options', 'nosniff');
    res.status(200).end(image.data);
  }
}
