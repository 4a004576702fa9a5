/**
 * `call`'s result, or a rejection "no answer within <ms> ms" once `ms` pass first; the timer is
 * cleared either way. The bound every store call on the request path (Redis, the storage check)
 * keeps, so that a slow store costs a request at most `ms`.
 */
export async function within<T>(ms: number, call: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      call,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
