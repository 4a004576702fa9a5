import { startGatewayProcess } from '../support/gateway-process.ts';

describe('the built gateway as a process', () => {
  it('starts from dist/ like npm start, answers, and exits 0 on SIGTERM', async () => {
    const gw = await startGatewayProcess({});
    // Without keys only the keyless provider's models can be served; ?all=true lists the catalog.
    const models = (await (await fetch(`${gw.baseURL}/models`)).json()) as { data: unknown[] };
    const all = (await (await fetch(`${gw.baseURL}/models?all=true`)).json()) as { data: unknown[] };
    expect(models.data.length).toBeGreaterThan(0);
    expect(models.data.length).toBeLessThan(all.data.length);
    expect(all.data.length).toBeGreaterThanOrEqual(121);
    expect(await gw.stop()).toBe(0);
    expect(gw.output()).toContain('OpenAI-compatible API at');
  });
});
