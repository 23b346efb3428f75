import { Pool } from 'undici';
import type { ProxyLimits } from './limits.ts';

/**
 * One keep-alive connection pool per sandbox port. A port freed by a stopped sandbox and reused
 * later simply gets fresh connections: sockets to a dead process are closed and never reused.
 */
export class Upstreams {
  readonly #pools = new Map<number, Pool>();
  readonly #limits: ProxyLimits;

  constructor(limits: ProxyLimits) {
    this.#limits = limits;
  }

  pool(port: number): Pool {
    let pool = this.#pools.get(port);
    if (!pool) {
      pool = new Pool(`http://127.0.0.1:${port}`, {
        connections: 256,
        pipelining: 1,
        keepAliveTimeout: 4_000,
        headersTimeout: this.#limits.responseHeadersTimeoutMs,
        bodyTimeout: this.#limits.responseIdleTimeoutMs,
        connect: { timeout: 5_000 },
      });
      this.#pools.set(port, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy()));
  }
}
