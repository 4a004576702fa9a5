declare module 'cors' {
  import type { RequestHandler } from 'express';
  import type { CorsOptions, CorsOptionsDelegate } from '@nestjs/common/interfaces/external/cors-options.interface.js';
  /** The `cors` package's middleware, as Nest's enableCors installs it on Express. */
  export default function cors<T>(options?: CorsOptions | CorsOptionsDelegate<T>): RequestHandler;
}
