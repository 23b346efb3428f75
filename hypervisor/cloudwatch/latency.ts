import { isPagePath } from '../auth/pages.ts';
import type { RequestHandler } from '../http/server.ts';

/** How many samples one interval keeps; past that, reservoir sampling keeps a fair subset. */
const capacity = 4096;

/**
 * Latencies of the requests answered in one publishing interval, for its p99. Bounded memory:
 * after `capacity` samples each new one replaces a random kept one with falling probability.
 */
export class LatencyWindow {
  #samples: number[] = [];
  #seen = 0;

  record(ms: number): void {
    this.#seen += 1;
    if (this.#samples.length < capacity) {
      this.#samples.push(ms);
      return;
    }
    const slot = Math.floor(Math.random() * this.#seen);
    if (slot < capacity) this.#samples[slot] = ms;
  }

  /** The interval's p99 (nearest rank) and a fresh window; undefined when nothing was answered. */
  takeP99(): number | undefined {
    const samples = this.#samples.sort((a, b) => a - b);
    this.#samples = [];
    this.#seen = 0;
    if (samples.length === 0) return undefined;
    return samples[Math.min(samples.length - 1, Math.ceil(samples.length * 0.99) - 1)];
  }
}

/**
 * Only requests bound for the proxy are timed: operator routes are not user traffic, and sign-ins
 * are slow on purpose (argon2 over recovery codes), so either would only blur the sandboxes' figure.
 */
const notProxied = (pathname: string): boolean =>
  pathname === '/health' || pathname === '/metrics' || pathname === '/admin' || pathname.startsWith('/admin/') || pathname === '/auth' || pathname.startsWith('/auth/') || isPagePath(pathname);

/**
 * A pipeline step that handles nothing: it times each request bound for the proxy from arrival to
 * the end of its answer (an on-demand sandbox start included, as the user waits for it) into
 * `window`, and passes the request on at once.
 */
export function requestTiming(window: LatencyWindow): RequestHandler {
  return async (_req, res, url) => {
    if (notProxied(url.pathname)) return false;
    const started = performance.now();
    res.once('finish', () => window.record(performance.now() - started));
    return false;
  };
}
