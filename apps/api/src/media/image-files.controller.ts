import { Controller, Get, Param, Res, applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiError } from '../common/api-error.ts';
import { ApiErrors, DOC_TAGS } from '../openapi/decorators.ts';
import { ImageStore } from './image-store.ts';
import type { ImageMime } from './media-bytes.ts';

const IMAGE_TYPES: ImageMime[] = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'];

const ApiImageFileOperation = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: '获取网关托管的图片',
      operationId: 'getImageFile',
      description:
        '`POST /v1/images/generations` 以 `response_format: "url"` 返回的图片链接。**不需要密钥**：文件名随机、不可猜测，本身就是访问凭证（与 OpenAI 的图片链接一样），方便直接嵌入网页和聊天。链接在 `IMAGE_URL_TTL_SECONDS`（默认 3600 秒）后失效；`cache-control` 与 `expires` 头给出剩余有效期。',
    }),
    ApiParam({
      name: 'file',
      description: '图片文件名：32 个随机字符加扩展名（`png`、`jpg`、`webp`、`gif`）。',
      schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{32}\\.(png|jpg|webp|gif)$' },
    }),
    ApiResponse({
      status: 200,
      description: '图片文件。',
      content: Object.fromEntries(IMAGE_TYPES.map((type) => [type, { schema: { type: 'string', format: 'binary' } }])),
    }),
    ApiErrors([404], { 404: '图片不存在或已过期（`code: image_not_found`）。' }),
  );

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
