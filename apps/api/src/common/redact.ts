/**
 * Keeps secrets out of what the gateway shows: the keys, tokens and passwords it is configured
 * with, and anything shaped like an API key, are scrubbed from upstream text (error messages
 * end up in client answers, the request log, health results and log lines); masks show at most
 * the last 4 characters of a secret.
 *
 * Scrubbing runs on error paths and must stay cheap whatever an upstream sends: the text is
 * bounded first, configured secrets are found in one pass indexed by their first characters, and
 * the shape patterns have no nested or unbounded-then-backtracking quantifiers (linear time).
 */

/** Shorter secrets are not scrubbed from text: "password" or "changeme" would mangle ordinary words. */
export const MIN_SCRUBBED_SECRET = 8;
/** A secret longer than this is not a key (nothing the console accepts is); ignored, which bounds the index. */
const MAX_SECRET = 4096;
/** Upstream text is cut to this many characters before it is scrubbed (and shown). */
export const MAX_SCRUBBED_TEXT = 4096;
/** Below this length a mask shows nothing of the secret. */
const SHOW_TAIL_FROM = 16;
/** A prefix at least this long at the very end of a cut text counts as the start of a secret. */
const MIN_CUT_PREFIX = 6;

/** A secret as the gateway shows it: "****" and, for long secrets, their last 4 characters ("****x9f2"). */
export function maskSecret(value: string): string {
  return value.length >= SHOW_TAIL_FROM ? `****${value.slice(-4)}` : '****';
}

/** scheme://userinfo@ at the start of a URL; the greedy userinfo stops at the authority's last "@". */
const URL_USERINFO = /^([a-z][a-z0-9+.-]{0,30}:\/\/)([^/?#]*)@/i;

/**
 * A URL as the API and the logs show it: a password in it replaced by "****"; a user name alone
 * (`https://TOKEN@host`) is a token and is replaced too. A user name next to a password stays
 * readable unless it is itself a known secret or looks like a key.
 */
export function maskUrlCredentials(url: string): string;
export function maskUrlCredentials(url: string | undefined | null): string | null;
export function maskUrlCredentials(url: string | undefined | null): string | null {
  if (!url) return null;
  const m = URL_USERINFO.exec(url);
  if (!m) return url;
  const userinfo = m[2]!;
  const colon = userinfo.indexOf(':');
  const user = colon < 0 ? '' : userinfo.slice(0, colon);
  const shownUser = user && user.length <= 64 && scrubSecrets(user) === user ? user : '****';
  const masked = colon < 0 ? '****' : `${shownUser}:****`;
  return `${m[1]}${masked}@${url.slice(m[0].length)}`;
}

/**
 * A URL sent back as the API showed it ("https://me:****@host/v2") stands for the stored one's
 * credentials, on the same origin only: undefined when it holds a mask that cannot be restored
 * (no stored credentials, or another host: credentials never follow a URL elsewhere).
 */
export function restoreUrlCredentials(sent: string, current: string | undefined): string | undefined {
  const m = URL_USERINFO.exec(sent);
  if (!m || !m[2]!.includes('****')) return sent;
  const stored = current ? URL_USERINFO.exec(current) : null;
  if (!current || !stored || !sameOrigin(sent, current)) return undefined;
  const shown = URL_USERINFO.exec(maskUrlCredentials(current))!;
  return shown[2] === m[2] ? `${m[1]}${stored[2]}@${sent.slice(m[0].length)}` : undefined;
}

/** The user name and password in a URL (raw and percent-decoded), to be scrubbed wherever they appear. */
export function urlCredentials(url: string | undefined | null): string[] {
  const m = url ? URL_USERINFO.exec(url) : null;
  if (!m) return [];
  const parts = m[2]!.split(':');
  const decoded = parts.map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return [...parts, ...decoded].filter(Boolean);
}

/** Whether two URLs share scheme, host and port (keys entered for one may be sent to the other). */
export function sameOrigin(a: string, b: string): boolean {
  return originOf(a) === originOf(b);
}

/** scheme://host:port of a URL, without credentials; the URL itself (lower-cased) when it does not parse. */
export function originOf(url: string): string {
  try {
    return new URL(url).origin.toLowerCase();
  } catch {
    return url.toLowerCase();
  }
}

type Rule = { pattern: RegExp; replace: (match: string, ...groups: string[]) => string };

/** A token is only a secret when it does not read like words: it has a digit, or is already partly starred. */
const looksRandom = (token: string) => /[\d*]/.test(token);

/**
 * Shapes of keys whatever their owner: provider key prefixes (OpenAI and compatible, xAI, Groq,
 * Hugging Face, Replicate, Together, GitHub, GitLab, NVIDIA, Perplexity), Google API keys, Bearer
 * tokens, `api_key=…`-style pairs and URL credentials. Every quantifier before the last one is
 * bounded, and the last one ends the match, so each rule runs in linear time.
 */
const RULES: readonly Rule[] = [
  {
    pattern: /\b(sk-|xai-|pplx-|nvapi-|glpat-|gsk_|hf_|r8_|ghp_|gho_|ghs_|ghu_|github_pat_|tgp_v1_)[A-Za-z0-9_*-]{12,}/g,
    replace: (match, prefix) => (looksRandom(match.slice(prefix.length)) ? `${prefix}****` : match),
  },
  { pattern: /\bAIza[A-Za-z0-9_-]{30,}/g, replace: () => 'AIza****' },
  {
    pattern: /\b([Bb]earer[ \t]{1,4})([A-Za-z0-9._~+/=*-]{8,})/g,
    replace: (match, prefix, token) => (looksRandom(token) ? `${prefix}****` : match),
  },
  {
    pattern:
      /\b((?:api[_-]?key|access[_-]?key|access[_-]?token|auth[_-]?token|secret[_-]?key|client[_-]?secret|token|secret|password|passwd)["']?[ \t]{0,4}[:=][ \t]{0,4}["']?)([^\s"',;&}]{8,})/gi,
    replace: (match, prefix, value) => (looksRandom(value) ? `${prefix}****` : match),
  },
  { pattern: /\b([a-z][a-z0-9+.-]{0,30}:\/\/)[^\s/?#@]{1,256}@/gi, replace: (_match, scheme) => `${scheme}****@` },
];

/** A text cut by an earlier clip may end in the first part of a secret; these end such a cut. */
const CUT_MARK = /(?:…|\.{3})?\s*$/;

/**
 * The process's configured secrets, grouped by owner (a provider registry registers its keys,
 * proxies and URLs; it replaces its set on every change and drops it on shutdown).
 */
export class SecretScrubber {
  private readonly owners = new Map<unknown, readonly string[]>();
  /** Secrets by their first MIN_SCRUBBED_SECRET characters, longest first. */
  private index = new Map<string, string[]>();
  private firstChars = new Set<number>();
  private all: string[] = [];
  private longest = 0;

  /** Sets (replaces) the secrets of one owner. */
  set(owner: unknown, values: Iterable<string | null | undefined>): void {
    const kept = new Set<string>();
    for (const v of values) {
      const s = v?.trim();
      if (s && s.length >= MIN_SCRUBBED_SECRET && s.length <= MAX_SECRET) kept.add(s);
    }
    this.owners.set(owner, [...kept]);
    this.rebuild();
  }

  delete(owner: unknown): void {
    if (this.owners.delete(owner)) this.rebuild();
  }

  /** How many distinct secrets are registered (for tests and diagnostics). */
  get size(): number {
    return this.all.length;
  }

  /**
   * `text` without configured secrets and key-shaped tokens, cut to `maxChars` (with "…").
   * Linear in the (bounded) text; never throws.
   */
  scrub(text: string, maxChars = MAX_SCRUBBED_TEXT): string {
    if (!text) return text;
    // Keep room for a secret that starts before the cut, so it is replaced whole, not cut in half.
    const bounded = text.length > maxChars ? text.slice(0, maxChars + this.longest) : text;
    let out = this.cutPrefix(this.replaceKnown(bounded));
    for (const rule of RULES) out = out.replace(rule.pattern, rule.replace as (m: string, ...g: unknown[]) => string);
    return out.length > maxChars ? clip(out, maxChars) : out;
  }

  /** Configured secrets, found in one pass: a lookup by the next characters at each position. */
  private replaceKnown(text: string): string {
    if (this.index.size === 0 || text.length < MIN_SCRUBBED_SECRET) return text;
    let out = '';
    let last = 0;
    for (let i = 0; i + MIN_SCRUBBED_SECRET <= text.length;) {
      const hit = this.firstChars.has(text.charCodeAt(i))
        ? this.index.get(text.slice(i, i + MIN_SCRUBBED_SECRET))?.find((s) => text.startsWith(s, i))
        : undefined;
      if (hit === undefined) {
        i++;
        continue;
      }
      out += text.slice(last, i) + maskSecret(hit);
      i += hit.length;
      last = i;
    }
    return last === 0 ? text : out + text.slice(last);
  }

  /**
   * A text an earlier step cut short ("…invalid key sk-abc123…") may end in a secret's first
   * part, which the whole-secret pass cannot see; that part is replaced too. Only the last
   * `longest` characters are looked at, so this costs the secrets' length, not the text's.
   */
  private cutPrefix(text: string): string {
    if (this.all.length === 0) return text;
    const end = text.length - (CUT_MARK.exec(text.slice(-8))?.[0].length ?? 0);
    const from = Math.max(0, end - this.longest);
    const tail = text.slice(from, end);
    for (const secret of this.all) {
      const head = secret.slice(0, MIN_CUT_PREFIX);
      for (let i = tail.indexOf(head); i >= 0; i = tail.indexOf(head, i + 1)) {
        const rest = tail.slice(i);
        if (rest.length < secret.length && secret.startsWith(rest)) {
          return text.slice(0, from + i) + '****' + text.slice(end);
        }
      }
    }
    return text;
  }

  private rebuild(): void {
    const all = [...new Set([...this.owners.values()].flat())].sort((a, b) => b.length - a.length);
    const index = new Map<string, string[]>();
    for (const s of all) {
      const key = s.slice(0, MIN_SCRUBBED_SECRET);
      const list = index.get(key);
      if (list) list.push(s);
      else index.set(key, [s]);
    }
    this.all = all;
    this.index = index;
    this.firstChars = new Set(all.map((s) => s.charCodeAt(0)));
    this.longest = all[0]?.length ?? 0;
  }
}

function clip(text: string, max: number): string {
  let cut = max - 1;
  // Never leave half a surrogate pair before the ellipsis.
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return text.slice(0, cut) + '…';
}

/** The one scrubber of this process: upstream errors are scrubbed where they are made (UpstreamError). */
export const secretScrubber = new SecretScrubber();

/** `text` with every configured secret and key-shaped token replaced, cut to `maxChars`. */
export function scrubSecrets(text: string, maxChars?: number): string {
  return secretScrubber.scrub(text, maxChars);
}
