import { setTimeout as sleep } from 'node:timers/promises';

/**
 * What the proxy is carrying to each sandbox (`<user>:<role>`): requests in flight and open
 * WebSockets. Route switches use it to drain the old target and to close its WebSockets cleanly.
 */
export interface RelayedWebSocket {
  /** Closes the client side with `code` (and the sandbox side with it). */
  close(code: number, reason: string): void;
  /** Drops both connections at once, for peers that do not answer a close. */
  terminate(): void;
}

interface Target {
  inFlight: number;
  waiters: Set<() => void>;
  webSockets: Set<RelayedWebSocket>;
}

const userOf = (sandboxId: string): string => sandboxId.slice(0, sandboxId.lastIndexOf(':'));

export class Traffic {
  readonly #targets = new Map<string, Target>();
  /** Requests of a user whose target is still being resolved: they may yet land on any of the user's sandboxes. */
  readonly #resolving = new Map<string, number>();
  /** Drains waiting; without one, a request's end has nobody to wake (the common case, checked first). */
  #draining = 0;

  #target(key: string): Target {
    let target = this.#targets.get(key);
    if (!target) {
      target = { inFlight: 0, waiters: new Set(), webSockets: new Set() };
      this.#targets.set(key, target);
    }
    return target;
  }

  #forgetIfIdle(key: string, target: Target): void {
    if (target.inFlight === 0 && target.webSockets.size === 0 && target.waiters.size === 0) this.#targets.delete(key);
  }

  #isDrained(key: string): boolean {
    return (this.#targets.get(key)?.inFlight ?? 0) === 0 && !this.#resolving.has(userOf(key));
  }

  #wake(key: string): void {
    const target = this.#targets.get(key);
    if (target && this.#isDrained(key)) for (const wake of [...target.waiters]) wake();
  }

  /**
   * Counts a request of `userId` whose sandbox is not known yet; call the returned function once it
   * is (before `begin`) or the request ends. A drain waits for these, so a request that resolved
   * to the old target just before a switch is not missed.
   */
  resolving(userId: string): () => void {
    this.#resolving.set(userId, (this.#resolving.get(userId) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = (this.#resolving.get(userId) ?? 1) - 1;
      if (left > 0) {
        this.#resolving.set(userId, left);
        return;
      }
      this.#resolving.delete(userId);
      if (this.#draining === 0) return;
      for (const key of this.#targets.keys()) if (userOf(key) === userId) this.#wake(key);
    };
  }

  /** Counts one request in flight; call the returned function exactly once when it is over. */
  begin(key: string): () => void {
    const target = this.#target(key);
    target.inFlight += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      target.inFlight -= 1;
      if (this.#draining > 0) this.#wake(key);
      this.#forgetIfIdle(key, target);
    };
  }

  inFlight(key: string): number {
    return this.#targets.get(key)?.inFlight ?? 0;
  }

  /** Resolves true once nothing is in flight to `key`, or false when `timeoutMs` passes first. */
  drained(key: string, timeoutMs: number): Promise<boolean> {
    if (this.#isDrained(key)) return Promise.resolve(true);
    const target = this.#target(key);
    return new Promise((resolve) => {
      this.#draining += 1;
      let settled = false;
      const finish = (result: boolean): void => {
        if (settled) return;
        settled = true;
        this.#draining -= 1;
        clearTimeout(timer);
        target.waiters.delete(wake);
        this.#forgetIfIdle(key, target);
        resolve(result);
      };
      const wake = (): void => finish(true);
      const timer = setTimeout(() => finish(false), timeoutMs);
      target.waiters.add(wake);
    });
  }

  /** Registers a relayed WebSocket; the returned function unregisters it. */
  addWebSocket(key: string, socket: RelayedWebSocket): () => void {
    const target = this.#target(key);
    target.webSockets.add(socket);
    return () => {
      target.webSockets.delete(socket);
      this.#forgetIfIdle(key, target);
    };
  }

  webSockets(key: string): number {
    return this.#targets.get(key)?.webSockets.size ?? 0;
  }

  /** Closes every relayed WebSocket to `key` with `code`; returns how many were open. */
  closeWebSockets(key: string, code: number, reason: string): number {
    const sockets = [...(this.#targets.get(key)?.webSockets ?? [])];
    for (const socket of sockets) socket.close(code, reason);
    return sockets.length;
  }

  /**
   * Closes every WebSocket (shutdown): cleanly with `code`, then, for peers that have not finished
   * the close handshake within `graceMs`, by dropping the connection.
   */
  async closeAll(code: number, reason: string, graceMs: number): Promise<void> {
    const all = (): RelayedWebSocket[] => [...this.#targets.values()].flatMap((target) => [...target.webSockets]);
    for (const socket of all()) socket.close(code, reason);
    const deadline = Date.now() + graceMs;
    while (all().length > 0 && Date.now() < deadline) await sleep(20);
    for (const socket of all()) socket.terminate();
  }
}
