import { startGatewayProcess } from '../support/gateway-process.ts';

describe('the built gateway as a process', () => {
  it('starts from dist/ like npm start, answers, and exits 0 on SIGTERM', async () => {
    const gw = await startGatewayProcess({});
    const models = (await (await fetch(`${gw.baseURL}/models`)).json()) as { data: unknown[] };
    expect(models.data.length).toBeGreaterThanOrEqual(121);
    expect(await gw.stop()).toBe(0);
    expect(gw.output()).toContain('OpenAI-compatible API at');
  });
});
