import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetch } from 'undici';
import { startSandboxInProcess, type InProcessSandbox } from './testing/sandbox-in-process.ts';
import { WsClient } from './testing/ws-client.ts';

let sandbox: InProcessSandbox;

beforeAll(async () => {
  sandbox = await startSandboxInProcess();
});

afterAll(async () => {
  await sandbox?.dispose();
});

const sent = {
  cookie: 'choiros_session=cookie-secret',
  'proxy-authorization': 'Basic proxy-secret',
  'x-choiros-user-id': 'user-7',
  'x-choiros-sandbox-role': 'live',
  'x-forwarded-host': 'choir.example',
  forwarded: 'for=192.0.2.9;proto=https',
  'x-real-ip': '192.0.2.9',
};

const expected = {
  credentials: { cookie: 'present', authorization: 'absent', 'proxy-authorization': 'present' },
  identity: { 'x-choiros-user-id': 'user-7', 'x-choiros-sandbox-role': 'live' },
  forwarding: { 'x-forwarded-for': null, 'x-forwarded-proto': null, 'x-forwarded-host': 'choir.example', forwarded: 'for=192.0.2.9;proto=https', 'x-real-ip': '192.0.2.9' },
};

describe('what reached the sandbox (in process)', () => {
  test('GET /diagnostics/received: each credential present or absent, never its value; identity and forwarding headers as received', async () => {
    const response = await fetch(`${sandbox.url}/diagnostics/received`, { headers: sent });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toMatch(/secret/);
    expect(JSON.parse(text)).toEqual(expected);
    expect((await fetch(`${sandbox.url}/diagnostics/received`, { method: 'POST' })).status).toBe(405);
  });

  test('a credential header sent empty still counts as present: it reached the sandbox', async () => {
    const response = await fetch(`${sandbox.url}/diagnostics/received`, { headers: { authorization: '', cookie: '' } });
    expect(((await response.json()) as typeof expected).credentials).toEqual({ cookie: 'present', authorization: 'present', 'proxy-authorization': 'absent' });
  });

  test('the WebSocket received diagnostic reports the upgrade request the same way', async () => {
    const client = await WsClient.connect(sandbox.url, sent);
    try {
      client.send({ type: 'received' });
      expect(await client.waitFor((m) => m.type === 'received')).toEqual({ type: 'received', ...expected });
    } finally {
      client.close();
    }
  });

  test('POST /diagnostics/received-body counts every byte of a body far over the JSON routes\' 64 KiB limit', async () => {
    const response = await fetch(`${sandbox.url}/diagnostics/received-body`, { method: 'POST', body: 'x'.repeat(300_000) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ bytes: 300_000 });
  });
});
