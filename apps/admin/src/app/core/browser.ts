import { DOCUMENT, InjectionToken, inject } from '@angular/core';

/**
 * localStorage, or null where it is unavailable (privacy modes, tests). Everything the console
 * remembers goes through this token so that tests can hand in their own.
 */
export const BROWSER_STORAGE = new InjectionToken<Storage | null>('BROWSER_STORAGE', {
  providedIn: 'root',
  factory: () => {
    try {
      return inject(DOCUMENT).defaultView?.localStorage ?? null;
    } catch {
      return null;
    }
  },
});

/** Keys under which the console stores its state in localStorage. */
export const STORAGE_KEYS = {
  session: 'g4f.console.session',
  theme: 'g4f.console.theme',
  statsRange: 'g4f.console.statsRange',
} as const;

export function readJson<T>(storage: Storage | null, key: string): T | null {
  try {
    const raw = storage?.getItem(key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

export function writeJson(storage: Storage | null, key: string, value: unknown): void {
  try {
    if (value === null || value === undefined) storage?.removeItem(key);
    else storage?.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled: the console still works, it just forgets.
  }
}
