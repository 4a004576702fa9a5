import type { QuotaSpec } from '../common/quota-spec.ts';

/**
 * The built-in providers' documented free-tier limits (docs/providers.md, 免费额度账本, cites each source). Only
 * numbers a provider's own pages state are here: whatever they do not state stays unknown and
 * never holds a key back. Operators add or change limits per provider and per key (QUOTA_LIMITS,
 * the console).
 */
export const FREE_TIERS: Readonly<Record<string, QuotaSpec>> = {
  // Workers AI: "10,000 Neurons per day" free allocation (developers.cloudflare.com/workers-ai/platform/pricing);
  // answers do not report neurons: they are estimated from each answer's tokens (cloudflare/cloudflare-neurons.ts),
  // and a spent allocation (429, code 3036) still rests the key until the next day. "All limits reset daily at
  // 00:00 UTC", says the pricing page.
  cloudflare: { limits: { 'neurons/day': 10_000 }, timeZone: 'UTC', resetHour: 0, creditWindow: 'day' },
  // Inference Providers: free accounts get a small monthly credit (in dollars, not requests or tokens:
  // huggingface.co/docs/inference-providers/pricing); a 402 means it is spent until next month.
  huggingface: { limits: {}, timeZone: 'UTC', resetHour: 0, creditWindow: 'month' },
  // "200 concurrent requests" per model (deepinfra.com/docs/advanced/rate-limits): a concurrency cap, not a
  // budget per window; nothing else documented.
  deepinfra: { limits: {}, timeZone: 'UTC', resetHour: 0 },
  // Per-model RPM/TPM that depend on the account's tier, shown only in its console (docs.together.ai/docs/rate-limits).
  together: { limits: {}, timeZone: 'UTC', resetHour: 0 },
  // The anonymous tier's pacing is not documented by Pollinations itself.
  pollinations: { limits: {}, timeZone: 'UTC', resetHour: 0 },
};

/** An operator's upstream, or a provider without documented limits: everything unknown. */
export const UNKNOWN_TIER: QuotaSpec = { limits: {}, timeZone: 'UTC', resetHour: 0 };
