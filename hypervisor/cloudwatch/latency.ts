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

/** Operator routes are not user traffic: their latency would only blur the figure. */
const operatorPath = (pathname: string): boolean => pathname === '/health' || pathname === '/metrics' || pathname === '/admin' || pathname.startsWith('/admin/');

/**
 * A pipeline step that handles nothing: it times each user-facing request from arrival to the end of
 * its answer into `window`, and passes the request on at once.
 */
export function requestTiming(window: LatencyWindow): RequestHandler {
  return async (_req, res, url) => {
    if (operatorPath(url.pathname)) return false;
    const started = performance.now();
    res.once('finish', () => window.record(performance.now() - started));
    return false;
  };
}
