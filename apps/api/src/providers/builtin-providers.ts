import { CLOUDFLARE } from './cloudflare/cloudflare.provider.ts';
import { DEEPINFRA } from './deepinfra/deepinfra.provider.ts';
import { HUGGINGFACE } from './huggingface/huggingface.provider.ts';
import { POLLINATIONS } from './pollinations/pollinations.provider.ts';
import type { ProviderDeclaration } from './provider-declaration.ts';
import { TOGETHER } from './together/together.provider.ts';

/**
 * Adding a provider: one folder with its adapter and its declaration, and one line here. Config
 * reads its environment from this list and the providers module loads its adapters from it.
 * Plain data (the adapters load on demand), so config imports it before Nest starts.
 */
export const BUILTIN_PROVIDERS: readonly ProviderDeclaration[] = [POLLINATIONS, DEEPINFRA, TOGETHER, HUGGINGFACE, CLOUDFLARE];
