import type { ApiAccess } from '#contracts';

/** The dashboard's notice about who may call /v1, or null when a key is required (nothing to say). */
export interface ApiAccessNotice {
  tone: 'info' | 'warning';
  icon: string;
  /** Plain Chinese text; `code` parts are rendered as code. */
  parts: { text: string; code?: boolean }[];
}

const code = (text: string) => ({ text, code: true });
const text = (text: string) => ({ text });

/**
 * `local`: the API answers only this machine, and how to open it; `open`: anyone can use it without
 * a key, which the operator chose (ALLOW_OPEN_API) and should know.
 */
export function apiAccessNotice(mode: ApiAccess['mode'] | undefined): ApiAccessNotice | null {
  if (mode === 'local') {
    return {
      tone: 'info',
      icon: 'lan',
      parts: [
        text('API 目前只对本机开放：未设置 '),
        code('API_KEY'),
        text(' 且没有客户端密钥，来自其他机器的 '),
        code('/v1'),
        text(' 请求会收到 403。要对外提供服务，请在「API 密钥」页面创建密钥（或设置环境变量 '),
        code('API_KEY'),
        text('）；或设置 '),
        code('ALLOW_OPEN_API=true'),
        text('，无需密钥对所有人开放。'),
      ],
    };
  }
  if (mode === 'open') {
    return {
      tone: 'warning',
      icon: 'public',
      parts: [
        text('API 对所有人开放且无需密钥（'),
        code('ALLOW_OPEN_API=true'),
        text('）：能访问本服务的任何人都能使用上游额度。需要限制时，请在「API 密钥」页面创建密钥。'),
      ],
    };
  }
  return null;
}
