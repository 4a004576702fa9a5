import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { finalize, type Observable } from 'rxjs';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';

/**
 * At most TRANSCRIPTION_MAX_CONCURRENT audio uploads are taken at once. Multer reads each into
 * memory, up to TRANSCRIPTION_MAX_BYTES (25 MB by default), and the upstream call holds it until
 * it ends: a hundred clients uploading at once would have held 2.5 GB. Placed before the file
 * interceptor, so a refused upload is never read; the slot is given back when the answer ends or
 * the client goes away. The console's transcription test (/api/audio/transcriptions/test) shares the count.
 */
/** The uploads being taken now, one count for the whole app (each module gets its own interceptor instance). */
@Injectable()
export class UploadsInFlight {
  count = 0;
}

@Injectable()
export class UploadSlots implements NestInterceptor {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly uploads: UploadsInFlight,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const max = this.config.transcriptions.maxConcurrent;
    if (this.uploads.count >= max) {
      throw new ApiError(
        429,
        `Too many audio uploads at once: this gateway takes ${max} at a time (TRANSCRIPTION_MAX_CONCURRENT). Retry in a moment.`,
        'rate_limit_exceeded',
        'too_many_uploads',
        null,
        undefined,
        { 'retry-after': '1' },
      );
    }
    this.uploads.count++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.uploads.count--;
    };
    const res = context.switchToHttp().getResponse<Response>();
    res.once('close', release);
    return next.handle().pipe(finalize(release));
  }
}
