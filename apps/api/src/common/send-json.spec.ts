import type { AddressInfo } from 'node:net';
import express from 'express';
import { sendJson } from './send-json.ts';

describe('sendJson', () => {
  const values: unknown[] = [
    { id: 'chatcmpl-1', choices: [{ message: { role: 'assistant', content: '你好，世界 👋 "quoted" \\ </script>' } }], n: 1.5, none: null },
    [],
    'just a string',
    0,
  ];

  it('answers with the same status, headers and bytes as Express res.json', async () => {
    const app = express();
    app.set('etag', false);
    app.get('/express/:i', (req, res) => void res.status(201).json(values[Number(req.params.i)]));
    app.get('/ours/:i', (req, res) => sendJson(res, 201, values[Number(req.params.i)]));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const i of values.keys()) {
        const [theirs, ours] = await Promise.all([fetch(`${base}/express/${i}`), fetch(`${base}/ours/${i}`)]);
        expect(ours.status).toBe(theirs.status);
        for (const h of ['content-type', 'content-length']) expect(ours.headers.get(h)).toBe(theirs.headers.get(h));
        expect(Buffer.from(await ours.arrayBuffer())).toEqual(Buffer.from(await theirs.arrayBuffer()));
      }
    } finally {
      server.close();
    }
  });
});
