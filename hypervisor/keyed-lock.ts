/**
 * One operation per key at a time, in arrival order (kamal-proxy deploys under a lock). The sandbox
 * manager keys it by sandbox (`<user>:<role>`), so there are never two operations on one sandbox;
 * routing keys it by user, since a swap that starts while a rollback is between its health check
 * and its switch would otherwise switch the wrong way.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `work` after every earlier operation on the same key has finished (whether it failed or not). */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const run = (this.#tails.get(key) ?? Promise.resolve()).then(work, work);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return run;
  }

  /** The operations queued or running now, on any key (settled never rejects). */
  pending(): Promise<void>[] {
    return [...this.#tails.values()];
  }
}
