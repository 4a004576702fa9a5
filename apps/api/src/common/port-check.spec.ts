import { createServer, type Server } from 'node:net';
import { bindErrorMessage, checkPortFree } from './port-check.ts';

async function hold(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

describe('checkPortFree', () => {
  it('rejects with EADDRINUSE for a port another socket holds, and resolves (leaving it free) once released', async () => {
    const { server, port } = await hold();
    await expect(checkPortFree(port, '127.0.0.1')).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await new Promise((resolve) => server.close(resolve));
    await checkPortFree(port, '127.0.0.1');
    // The probe let go of it: it can be bound again.
    const again = createServer();
    await new Promise<void>((resolve) => again.listen(port, '127.0.0.1', resolve));
    await new Promise((resolve) => again.close(resolve));
  });

  it('does not probe port 0 (the OS picks one at listen time)', async () => {
    await expect(checkPortFree(0, '127.0.0.1')).resolves.toBeUndefined();
  });
});

describe('bindErrorMessage', () => {
  it('is one line naming the port and the variable to change, for the errors an operator can fix', () => {
    const inUse = bindErrorMessage(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }), 8080, '0.0.0.0')!;
    expect(inUse).toMatch(/^Port 8080 is already in use \(0\.0\.0\.0:8080\).*PORT/);
    expect(inUse).toContain('端口 8080 已被占用');
    expect(bindErrorMessage({ code: 'EACCES' }, 80, '0.0.0.0')).toMatch(/port 80 .*PORT/);
    expect(bindErrorMessage({ code: 'EADDRNOTAVAIL' }, 8080, '10.9.9.9')).toMatch(/HOST/);
    for (const message of [inUse, bindErrorMessage({ code: 'EACCES' }, 80, 'h'), bindErrorMessage({ code: 'EADDRNOTAVAIL' }, 1, 'h')]) {
      expect(message).not.toContain('\n');
    }
  });

  it('leaves other errors alone', () => {
    expect(bindErrorMessage(new Error('boom'), 8080, '0.0.0.0')).toBeUndefined();
    expect(bindErrorMessage(undefined, 8080, '0.0.0.0')).toBeUndefined();
  });
});
