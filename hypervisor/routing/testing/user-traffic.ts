import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import WebSocket from 'ws';
import { createSessions } from '../../auth/sessions.ts';
import { createUsers, newUserId } from '../../auth/users.ts';
import { sessionCookieName } from '../../auth/cookies.ts';
import { openDatabase } from '../../store/database.ts';

/**
 * A user with a session, made straight in the hypervisor's database (the passkey ceremony is the
 * auth suite's business; routing tests only need a logged-in user's traffic).
 */
export function createUserSession(databaseUrl: string): { userId: string; cookie: string } {
  const db = openDatabase(databaseUrl);
  try {
    const userId = newUserId();
    createUsers(db).create({ id: userId, username: `routing-${userId}`, displayName: 'Routing test', webauthnUserId: randomBytes(16).toString('base64url') });
    const session = createSessions(db).create(userId, 'user');
    return { userId, cookie: `${sessionCookieName}=${session.id}` };
  } finally {
    db.close();
  }
}

export interface Answer {
  status: number;
  body: string;
}

/** HTTP through the hypervisor's proxy as one logged-in user (main route at /, dev at /dev/). */
export class UserClient {
  readonly baseUrl: string;
  readonly cookie: string;
  readonly #agent = new Agent({ connections: 16, keepAliveTimeout: 10_000 });

  constructor(baseUrl: string, cookie: string) {
    this.baseUrl = baseUrl;
    this.cookie = cookie;
  }

  async get(path: string): Promise<Answer> {
    const res = await request(`${this.baseUrl}${path}`, { dispatcher: this.#agent, headers: { cookie: this.cookie }, headersTimeout: 30_000, bodyTimeout: 30_000 });
    return { status: res.statusCode, body: await res.body.text() };
  }

  async post(path: string, body: unknown): Promise<Answer> {
    const res = await request(`${this.baseUrl}${path}`, {
      method: 'POST',
      dispatcher: this.#agent,
      headers: { cookie: this.cookie, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    return { status: res.statusCode, body: await res.body.text() };
  }

  /** A POST whose JSON body trickles in over `durationMs`: a request that is in flight for that long. */
  async slowPost(path: string, body: unknown, durationMs: number): Promise<Answer> {
    const text = JSON.stringify(body);
    const pieces = 6;
    const step = Math.ceil(text.length / pieces);
    async function* trickle(): AsyncGenerator<Buffer> {
      for (let i = 0; i < text.length; i += step) {
        yield Buffer.from(text.slice(i, i + step));
        await sleep(durationMs / pieces);
      }
    }
    const res = await request(`${this.baseUrl}${path}`, {
      method: 'POST',
      dispatcher: this.#agent,
      headers: { cookie: this.cookie, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) },
      body: Readable.from(trickle()),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    return { status: res.statusCode, body: await res.body.text() };
  }

  /** Runs a task on the route and waits until it completed; resolves to its run id and document path. */
  async completedRun(prefix: '' | '/dev', objective: string): Promise<{ runId: string; documentPath: string }> {
    const started = await this.post(`${prefix}/conductor/execute`, { objective, desktop_id: 'routing' });
    if (started.status !== 202) throw new Error(`POST ${prefix}/conductor/execute answered ${started.status}: ${started.body}`);
    const { run_id: runId } = JSON.parse(started.body) as { run_id: string };
    const deadline = Date.now() + 30_000;
    for (;;) {
      const run = await this.get(`${prefix}/conductor/runs/${runId}`);
      const parsed = JSON.parse(run.body) as { status?: string; document_path?: string };
      if (parsed.status === 'completed' && parsed.document_path) return { runId, documentPath: parsed.document_path };
      if (parsed.status === 'failed' || Date.now() > deadline) throw new Error(`run ${runId} did not complete: ${run.body}`);
      await sleep(50);
    }
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

export interface LoopResult {
  ok: number;
  failed: number;
  failures: string[];
  /** Milliseconds per answered request, in order. */
  latencies: number[];
}

/**
 * Continuous GETs on one route from `workers` loops, until stopped, `maxRequests` or `maxMs`:
 * bounded in count and time. Anything but a 200 is a failure, recorded with what it was.
 */
export function startHttpLoop(client: UserClient, path: string, options: { workers?: number; maxRequests?: number; maxMs?: number } = {}): { stop: () => Promise<LoopResult> } {
  const result: LoopResult = { ok: 0, failed: 0, failures: [], latencies: [] };
  const maxRequests = options.maxRequests ?? 50_000;
  const until = Date.now() + (options.maxMs ?? 120_000);
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (!stopped && Date.now() < until && result.ok + result.failed < maxRequests) {
      const began = performance.now();
      try {
        const answer = await client.get(path);
        result.latencies.push(performance.now() - began);
        if (answer.status === 200) result.ok += 1;
        else {
          result.failed += 1;
          result.failures.push(`${answer.status} ${answer.body.slice(0, 200)}`);
        }
      } catch (error) {
        result.failed += 1;
        result.failures.push((error as Error).message);
      }
    }
  };
  const workers = Array.from({ length: options.workers ?? 2 }, worker);
  return {
    async stop() {
      stopped = true;
      await Promise.all(workers);
      return result;
    },
  };
}

export interface SocketLog {
  /** Connections that got the sandbox's `pong` greeting. */
  greeted: number;
  closes: Array<{ code: number; reason: string }>;
  errors: string[];
}

/**
 * A desktop's WebSocket on the main route that reconnects after every close, as the desktop page
 * does, at most `maxConnections` times. Resolves `connected()` once a connection is greeted.
 */
export class ReconnectingSocket {
  readonly log: SocketLog = { greeted: 0, closes: [], errors: [] };
  readonly #url: string;
  readonly #cookie: string;
  readonly #maxConnections: number;
  #socket: WebSocket | undefined;
  #stopped = false;
  #connections = 0;
  #greetedWaiters: Array<() => void> = [];

  constructor(url: string, cookie: string, maxConnections = 100) {
    this.#url = url;
    this.#cookie = cookie;
    this.#maxConnections = maxConnections;
    this.#connect();
  }

  /** Resolves once `count` connections in total have been greeted. */
  async greeted(count: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.log.greeted < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.log.greeted} of ${count} WebSocket connections were greeted within ${timeoutMs} ms (closes ${JSON.stringify(this.log.closes)}, errors ${JSON.stringify(this.log.errors)})`);
      await new Promise<void>((resolve) => {
        this.#greetedWaiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  #connect(): void {
    if (this.#stopped || this.#connections >= this.#maxConnections) return;
    this.#connections += 1;
    const socket = new WebSocket(this.#url, { headers: { cookie: this.#cookie } });
    this.#socket = socket;
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type?: string };
      if (message.type === 'pong') {
        this.log.greeted += 1;
        for (const wake of this.#greetedWaiters.splice(0)) wake();
      }
    });
    socket.on('error', (error) => this.log.errors.push(error.message));
    socket.on('close', (code, reason) => {
      if (this.#stopped) return;
      this.log.closes.push({ code, reason: reason.toString('utf8') });
      this.#connect();
    });
  }

  /** Closes the current connection (normally) and stops reconnecting. */
  async stop(): Promise<SocketLog> {
    this.#stopped = true;
    const socket = this.#socket;
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close(1000, 'test over');
      });
    }
    return this.log;
  }
}
