import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LatencyWindow, requestTiming } from './latency.ts';

function windowOf(samples: readonly number[]): LatencyWindow {
  const window = new LatencyWindow();
  for (const ms of samples) window.record(ms);
  return window;
}

describe('RequestLatencyP99 window (latency.ts)', () => {
  it('takes the nearest-rank p99 in numeric order, latencies of differing digit counts included', () => {
    // 197 fast answers of 9.x ms and three slow ones: ranks 198-200 are 100, 150 and 1000 ms.
    const fast = Array.from({ length: 197 }, (_, i) => 9 + (i % 10) / 10);
    expect(windowOf([1000, ...fast.slice(0, 90), 150, ...fast.slice(90), 100]).takeP99()).toBe(100);
  });

  it('picks rank ceil(0.99 n): the 99th of 100 samples, the 100th of 101, the only one of one', () => {
    const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => n - i);
    expect(windowOf(upTo(100)).takeP99()).toBe(99);
    expect(windowOf(upTo(101)).takeP99()).toBe(100);
    expect(windowOf([42.5]).takeP99()).toBe(42.5);
  });

  it('has no p99 for an interval in which nothing was answered, so no figure is published for it', () => {
    expect(new LatencyWindow().takeP99()).toBeUndefined();
  });

  it('starts a fresh window after each take: the next interval counts only its own requests', () => {
    const window = windowOf([500, 600, 700]);
    expect(window.takeP99()).toBe(700);
    expect(window.takeP99()).toBeUndefined();
    window.record(3);
    expect(window.takeP99()).toBe(3);
  });

  it('keeps a fair sample past its capacity: a busy interval\'s later, slower requests are not left out', () => {
    // 4096 samples fill the window; the 100 000 slower ones after them are ~96% of the interval.
    const window = windowOf(Array.from({ length: 4096 }, () => 1));
    for (let i = 0; i < 100_000; i++) window.record(50);
    expect(window.takeP99()).toBe(50);
  });

  it("keeps a fair sample past its capacity: a busy interval's first, slower requests are not pushed out by the many after them", () => {
    // 4096 slow answers, then 40 960 fast ones: the slow are ~9% of the interval, well above the
    // 1% that decides the p99. Were every sample past capacity kept, the fast would replace them all.
    const window = windowOf(Array.from({ length: 4096 }, () => 80));
    for (let i = 0; i < 40_960; i++) window.record(2);
    expect(window.takeP99()).toBe(80);
  });

  it('samples the interval after a very busy one as fairly as the first: the count of requests seen starts again', () => {
    const window = new LatencyWindow();
    for (let i = 0; i < 1_000_000; i++) window.record(1);
    window.takeP99();
    // As in the test above, about half the kept samples end up slow; were the last interval's
    // million requests still counted, under 1% would be (p99 5).
    for (let i = 0; i < 4096; i++) window.record(5);
    for (let i = 0; i < 4096; i++) window.record(50);
    expect(window.takeP99()).toBe(50);
  });
});

describe('request timing (requestTiming)', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  /** A real HTTP server whose pipeline is the timing step followed by an answer of 200. */
  async function timedServer(window: LatencyWindow, answerAfterMs = 0): Promise<string> {
    const timing = requestTiming(window);
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      void timing(req, res, url).then((handled) => {
        if (!handled) setTimeout(() => res.end('ok'), answerAfterMs);
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('times requests bound for the proxy and leaves operator routes, sign-ins and pages out', async () => {
    const window = new LatencyWindow();
    const base = await timedServer(window);
    const answered = async (route: string): Promise<void> => {
      expect((await fetch(`${base}${route}`)).status).toBe(200);
      // The sample is taken on the answer's 'finish', which the server emits on its next turn.
      await new Promise((resolve) => setImmediate(resolve));
    };
    for (const route of ['/health', '/metrics', '/admin', '/admin/sandboxes', '/auth', '/auth/login/options', '/login']) await answered(route);
    expect(window.takeP99()).toBeUndefined();
    // Proxied: a sandbox's own path, ones that merely begin with "admin" or "auth" included.
    for (const route of ['/api/desktop/state', '/administrator', '/authors']) {
      await answered(route);
      expect(window.takeP99(), route).toBeGreaterThanOrEqual(0);
    }
  });

  it('records latencies in milliseconds, as RequestLatencyP99 is published: an answer held back 200 ms counts as at least 100', async () => {
    const window = new LatencyWindow();
    const base = await timedServer(window, 200);
    expect((await fetch(`${base}/api/desktop/state`)).status).toBe(200);
    await new Promise((resolve) => setImmediate(resolve));
    expect(window.takeP99()).toBeGreaterThanOrEqual(100);
  });
});
