import { addableId, parsePromoted } from './discovered-models.service.ts';

describe('addableId', () => {
  it('takes chat-looking upstream ids, slashes and colons included', () => {
    for (const id of ['acme/Nimbus-13B-Instruct', 'qwen2.5:7b', '@cf/meta/llama-3.3-70b-instruct-fp8-fast']) expect(addableId(id)).toBe(true);
  });

  it('leaves out image, speech and embedding models, spaces and overlong ids', () => {
    for (const id of [
      'black-forest-labs/FLUX.1-dev',
      'stabilityai/sdxl-turbo',
      'openai/whisper-large-v3',
      'BAAI/bge-m3',
      'intfloat/multilingual-e5-large',
      'a b',
      'x'.repeat(129),
      '',
    ])
      expect(addableId(id)).toBe(false);
  });
});

describe('parsePromoted', () => {
  it('reads a stored entry, keeping only well-formed routes and dropping the discovered mark', () => {
    expect(
      parsePromoted({
        id: 'acme/m',
        category: 'chat',
        owned_by: 'DeepInfra',
        discovered: true,
        routes: [{ provider: 'DeepInfra', upstream_model: 'acme/m' }, { provider: 1 }, null],
      }),
    ).toEqual({ id: 'acme/m', label: 'acme/m', owned_by: 'DeepInfra', category: 'chat', routes: [{ provider: 'DeepInfra', upstream_model: 'acme/m' }] });
  });

  it('refuses what another release or a broken store may hold', () => {
    for (const raw of [
      null,
      'x',
      { id: 'm', category: 'weird', routes: [{ provider: 'p', upstream_model: 'u' }] },
      { id: 'm', category: 'chat', routes: [] },
      { category: 'chat', routes: [] },
    ])
      expect(parsePromoted(raw)).toBeNull();
  });
});
