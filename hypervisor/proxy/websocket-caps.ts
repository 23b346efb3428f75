import type { Duplex } from 'node:stream';

export type CapVerdict = { admitted: true } | { admitted: false; scope: 'user' | 'total'; limit: number; code: number; reason: string };

/**
 * How many relayed WebSockets are open, per user and in all. A place is taken when the upgrade
 * arrives (so concurrent upgrades each see the others) and given back when the client's connection
 * closes, however the WebSocket ended: refused, failed to reach the sandbox, or closed.
 */
export class WebSocketCaps {
  readonly #perUser: number;
  readonly #total: number;
  readonly #byUser = new Map<string, number>();
  #open = 0;

  constructor({ maxWebSocketsPerUser, maxWebSockets }: { maxWebSocketsPerUser: number; maxWebSockets: number }) {
    this.#perUser = maxWebSocketsPerUser;
    this.#total = maxWebSockets;
  }

  admit(userId: string, socket: Duplex): CapVerdict {
    const mine = this.#byUser.get(userId) ?? 0;
    // 1008 (policy violation): this user holds too many; 1013 (try again later): the hypervisor is full.
    if (mine >= this.#perUser) return { admitted: false, scope: 'user', limit: this.#perUser, code: 1008, reason: `too many WebSockets for this user (limit ${this.#perUser}): close some` };
    if (this.#open >= this.#total) return { admitted: false, scope: 'total', limit: this.#total, code: 1013, reason: `too many WebSockets on this hypervisor (limit ${this.#total}): try again later` };
    this.#byUser.set(userId, mine + 1);
    this.#open += 1;
    socket.once('close', () => {
      this.#open -= 1;
      const left = (this.#byUser.get(userId) ?? 1) - 1;
      if (left > 0) this.#byUser.set(userId, left);
      else this.#byUser.delete(userId);
    });
    return { admitted: true };
  }
}
