import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestHypervisor, waitFor, type LogLine, type TestHypervisor } from '../../fixtures/test-hypervisor.ts';
import { defaultConnectionLimits, timeoutOptions } from './connection-guard.ts';
import { rawConnection as rawConnectionTo, untilClosed, type RawConnection } from './testing/raw-connection.ts';

/** A raw loopback connection to the hypervisor, from `localAddress` when given. */
const rawConnection = (target: TestHypervisor, localAddress?: string): Promise<RawConnection> => rawConnectionTo(Number(new URL(target.url).port), localAddress);

const errorLines = (logs: LogLine[], from: number): LogLine[] => logs.slice(from).filter((line) => Number(line.level) >= 50);

describe('connection limits: slow clients, many connections, clients that go away', () => {
  let target: TestHypervisor;
  beforeAll(async () => {
    target = await startTestHypervisor({
      HYPERVISOR_HEADERS_TIMEOUT_SECS: '1',
      HYPERVISOR_REQUEST_TIMEOUT_SECS: '2',
      HYPERVISOR_CONNECTIONS_PER_CLIENT: '3',
      HYPERVISOR_TRUSTED_PROXIES: '127.0.0.3',
    });
  });
  afterAll(async () => {
    await target.close();
    removeDir(target.dir);
  });

  it('answers slow request headers with 408 once HYPERVISOR_HEADERS_TIMEOUT_SECS has passed, naming both allowed times in seconds', async () => {
    const socket = await rawConnection(target);
    socket.write('GET /health HTTP/1.1\r\nhost: localhost\r\n');
    const answer = await untilClosed(socket);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('{"error":"the request did not arrive within the time allowed (headers 1 s, whole request 2 s)"}');
  });

  it('answers a slow request body with 408 once HYPERVISOR_REQUEST_TIMEOUT_SECS has passed, logging no error', async () => {
    const from = target.logs.length;
    const socket = await rawConnection(target);
    socket.write(`POST /auth/recovery HTTP/1.1\r\nhost: localhost\r\norigin: ${target.hypervisor.config.webauthn.rpOrigin}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"user`);
    expect(await untilClosed(socket)).toMatch(/^HTTP\/1\.1 408 /);
    expect(errorLines(target.logs, from)).toEqual([]);
  });

  it('caps concurrent connections per client address (HYPERVISOR_CONNECTIONS_PER_CLIENT): the next is answered 503 and closed', async () => {
    const from = target.logs.length;
    const held = [await rawConnection(target, '127.0.0.5'), await rawConnection(target, '127.0.0.5'), await rawConnection(target, '127.0.0.5')];
    const extra = await rawConnection(target, '127.0.0.5');
    const answer = await untilClosed(extra);
    expect(answer).toMatch(/^HTTP\/1\.1 503 /);
    expect(answer).toMatch(/too many connections from this address \(limit 3\)/);
    expect(target.logs.slice(from).find((line) => line.event === 'http.connection_limit')).toMatchObject({ client: '127.0.0.5', limit: 3 });
    const other = await rawConnection(target, '127.0.0.6');
    other.write('GET /health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n');
    expect(await untilClosed(other)).toMatch(/^HTTP\/1\.1 200 /);
    for (const socket of held) socket.destroy();
    // The cap is on connections open now, not ever opened: once the server has seen them close, the client is served again.
    const again = await waitFor(
      'a connection from 127.0.0.5 served once its held connections closed',
      async () => {
        const socket = await rawConnection(target, '127.0.0.5');
        socket.write('GET /health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n');
        const answer = await untilClosed(socket);
        return /^HTTP\/1\.1 200 /.test(answer) ? answer : undefined;
      },
      10_000,
    );
    expect(again).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('does not cap the connections of a trusted proxy: they carry many clients', async () => {
    const held = await Promise.all(Array.from({ length: 4 }, () => rawConnection(target, '127.0.0.3')));
    const last = held[3] as RawConnection;
    last.write('GET /health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n');
    expect(await untilClosed(last)).toMatch(/^HTTP\/1\.1 200 /);
    for (const socket of held) socket.destroy();
  });

  it.each([
    ['an auth route', '/auth/recovery', ''],
    ['an admin route', '/admin/sandboxes/someone/swap', 'authorization: Bearer TOKEN\r\n'],
  ])('logs a client that disconnects mid-body on %s below error level, and answers nothing', async (_what, path, extraHeaders) => {
    const from = target.logs.length;
    const socket = await rawConnection(target);
    const headers = extraHeaders.replace('TOKEN', target.token);
    socket.write(`POST ${path} HTTP/1.1\r\nhost: localhost\r\norigin: ${target.hypervisor.config.webauthn.rpOrigin}\r\n${headers}content-type: application/json\r\ncontent-length: 1000\r\n\r\n{"partial":`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    const aborted = await target.waitForLog((line) => line.event === 'http.client_aborted', 10_000, from);
    expect(aborted).toMatchObject({ path, level: 30 });
    expect(errorLines(target.logs, from)).toEqual([]);
  });
});

// Node answers a stalled client's 408 only when it next checks its connections: at most a quarter of
// the shortest timeout late, so a timeout stays near its setting (never a fixed 30 s for a 1 s setting).
describe('how often the server checks for stalled clients', () => {
  it.each([
    [1_000, 2_000, 250],
    [30_000, 60_000, 7_500],
    [600_000, 60_000, 15_000],
    [200, 200, 100],
    [900_000, 900_000, 30_000],
  ])('headers timeout %i ms, request timeout %i ms: every %i ms', (headersTimeoutMs, requestTimeoutMs, interval) => {
    expect(timeoutOptions({ ...defaultConnectionLimits, headersTimeoutMs, requestTimeoutMs })).toEqual({ headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs, connectionsCheckingInterval: interval });
  });
});
