import WebSocket from 'ws';

/** A JSON message the sandbox sent over /ws. */
export type WsMessage = { type: string } & Record<string, unknown>;

/**
 * A test's WebSocket to the sandbox: records every message, and lets a test wait for the next one
 * matching a predicate (failing with what arrived instead, after a deadline).
 */
export class WsClient {
  readonly messages: WsMessage[] = [];
  readonly #socket: WebSocket;
  readonly #waiters = new Set<() => void>();
  #closed: { code: number; reason: string } | undefined;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as WsMessage);
      for (const wake of this.#waiters) wake();
    });
    socket.on('close', (code, reason) => {
      this.#closed = { code, reason: reason.toString() };
      for (const wake of this.#waiters) wake();
    });
  }

  /** `headers`: sent with the upgrade request (as a proxy's leg would send them). */
  static async connect(httpUrl: string, headers: Record<string, string> = {}): Promise<WsClient> {
    const socket = new WebSocket(new URL('/ws', httpUrl.replace(/^http/, 'ws')), { headers });
    const client = new WsClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  get isOpen(): boolean {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  get closed(): { code: number; reason: string } | undefined {
    return this.#closed;
  }

  send(message: unknown): void {
    this.#socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  sendBinary(data: Buffer): void {
    this.#socket.send(data, { binary: true });
  }

  /** The first message at index >= `from` that matches; waits for it up to `timeoutMs`. */
  async waitFor(match: (message: WsMessage) => boolean, options: { from?: number; timeoutMs?: number } = {}): Promise<WsMessage> {
    const { from = 0, timeoutMs = 10_000 } = options;
    const find = (): WsMessage | undefined => this.messages.slice(from).find(match);
    const found = find();
    if (found) return found;
    return new Promise<WsMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(new Error(`no matching WebSocket message within ${timeoutMs} ms; received: ${JSON.stringify(this.messages.slice(from))}`));
      }, timeoutMs);
      const wake = (): void => {
        const message = find();
        if (message || this.#closed) {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          if (message) resolve(message);
          else reject(new Error(`WebSocket closed (${JSON.stringify(this.#closed)}) before a matching message; received: ${JSON.stringify(this.messages.slice(from))}`));
        }
      };
      this.#waiters.add(wake);
    });
  }

  close(code?: number, reason?: string): void {
    this.#socket.close(code, reason);
  }
}
