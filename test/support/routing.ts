import { postJson, type Gateway } from './gateway.ts';

/** One admin API call with `auth` (see adminHeaders): its status and JSON body. */
export async function adminCall<T>(
  gw: Gateway,
  auth: Record<string, string>,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${gw.url}${path}`, { method, headers: auth, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as T };
}

/** Who answered (`x-pool-provider`) each of `n` chat requests for `model`, sent `batch` at a time; every one must succeed. */
export async function answerers(gw: Gateway, model: string, n: number, batch = 20): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let sent = 0; sent < n; sent += batch) {
    const answers = await Promise.all(
      Array.from({ length: Math.min(batch, n - sent) }, async () => {
        const res = await postJson(`${gw.baseURL}/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }] });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${model}: HTTP ${res.status}`);
        return res.headers.get('x-pool-provider')!;
      }),
    );
    for (const a of answers) counts.set(a, (counts.get(a) ?? 0) + 1);
  }
  return counts;
}
