import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refuseUpgrade } from './refuse-upgrade.ts';
import { rawConnection, untilClosed } from './testing/raw-connection.ts';

// Each connection is refused with the status, message and headers its first line names.
interface Refusal {
  status: number;
  message: string;
  headers?: Record<string, string>;
}
const refusals: Refusal[] = [];

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((socket) => {
    const refusal = refusals.shift();
    if (refusal) refuseUpgrade(socket, refusal.status, refusal.message, refusal.headers);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** The answer to one refused connection: status line, headers (names lowercased) and body. */
async function refused(refusal: Refusal): Promise<{ statusLine: string; headers: Map<string, string>; body: string; bodyBytes: number }> {
  refusals.push(refusal);
  const answer = await untilClosed(await rawConnection(port));
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = new Map(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()] as const));
  return { statusLine, headers, body, bodyBytes: Buffer.byteLength(body) };
}

describe('refusing a WebSocket upgrade on the raw socket', () => {
  it('answers the status with its reason, {error} as JSON with the length in bytes, connection: close and the headers given, then closes', async () => {
    const answer = await refused({ status: 429, message: 'trop de connexions — réessayez dans 7 s', headers: { 'retry-after': '7' } });
    expect(answer.statusLine).toBe('HTTP/1.1 429 Too Many Requests');
    expect(JSON.parse(answer.body)).toEqual({ error: 'trop de connexions — réessayez dans 7 s' });
    expect(answer.headers.get('content-length')).toBe(String(answer.bodyBytes));
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(answer.headers.get('connection')).toBe('close');
    expect(answer.headers.get('retry-after')).toBe('7');
  });

  it('names a status Node has no reason phrase for "Error"', async () => {
    expect((await refused({ status: 599, message: 'refused' })).statusLine).toBe('HTTP/1.1 599 Error');
  });
});
