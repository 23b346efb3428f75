/**
 * One routing operation per user at a time (kamal-proxy deploys under a lock): a swap that starts
 * while a rollback is between its health check and its switch would otherwise switch the wrong way.
 */
export class UserLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  async run<T>(userId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(userId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.#tails.set(userId, tail);
    try {
      return await next;
    } finally {
      if (this.#tails.get(userId) === tail) this.#tails.delete(userId);
    }
  }
}
