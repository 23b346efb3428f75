import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { plainAddress } from './client-address.ts';
import type { Logger } from '../log.ts';

/** What one client may hold open and how long it may take to send a request (see ConnectionsConfig). */
export interface ConnectionLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  connectionsPerClient: number;
  trustedProxies: readonly string[];
}

export const defaultConnectionLimits: ConnectionLimits = {
  headersTimeoutMs: 30_000,
  requestTimeoutMs: 60_000,
  connectionsPerClient: 256,
  trustedProxies: [],
};

/** The server options that enforce the timeouts; checked often enough that a timeout is near its setting. */
export function timeoutOptions(limits: ConnectionLimits): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } {
  const shortest = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(shortest / 4))),
  };
}

const plainAnswer = (status: string, message: string): string => {
  const body = JSON.stringify({ error: message });
  return `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
};

/** Writes the answer, then closes at once: a client that is refused is not waited for. */
const answerAndClose = (socket: Socket, answer: string): void => void socket.end(answer, () => socket.destroy());

/**
 * Connection-level guards on `server`: at most connectionsPerClient open connections per client
 * address (the next is answered 503 and closed; trusted proxies are exempt, they carry many
 * clients), and clients too slow to send a request answered 408 rather than 400. `responses`
 * tracks each socket's response in progress, so a protocol error after an answer has begun never
 * writes a second status line into it.
 */
export function guardConnections(server: Server, limits: ConnectionLimits, log: Logger): { track(res: ServerResponse): void } {
  const open = new Map<string, number>();
  const warned = new Set<string>();
  const trusted = new Set(limits.trustedProxies.map(plainAddress));
  const responses = new WeakMap<Socket, ServerResponse>();

  server.on('connection', (socket: Socket) => {
    const client = plainAddress(socket.remoteAddress ?? 'unknown');
    if (trusted.has(client)) return;
    const count = (open.get(client) ?? 0) + 1;
    if (count > limits.connectionsPerClient) {
      // One line per burst, not one per refused connection: a flood must not flood the log too.
      if (!warned.has(client)) {
        warned.add(client);
        log.warn({ event: 'http.connection_limit', client, limit: limits.connectionsPerClient }, 'too many connections from one client address');
      }
      socket.on('error', () => socket.destroy());
      answerAndClose(socket, plainAnswer('503 Service Unavailable', `too many connections from this address (limit ${limits.connectionsPerClient}): close some and retry`));
      return;
    }
    open.set(client, count);
    socket.once('close', () => {
      const left = (open.get(client) ?? 1) - 1;
      if (left > 0) open.set(client, left);
      else open.delete(client);
      if (left < limits.connectionsPerClient) warned.delete(client);
    });
  });

  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const answering = responses.get(socket);
    if (!socket.writable || answering?.headersSent) {
      socket.destroy();
      return;
    }
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      log.info({ event: 'http.request_timeout', client: plainAddress(socket.remoteAddress ?? 'unknown') }, 'the client did not send its request in time');
      answerAndClose(socket, plainAnswer('408 Request Timeout', `the request did not arrive within the time allowed (headers ${limits.headersTimeoutMs / 1000} s, whole request ${limits.requestTimeoutMs / 1000} s)`));
    } else if (error.code === 'HPE_HEADER_OVERFLOW') {
      answerAndClose(socket, plainAnswer('431 Request Header Fields Too Large', 'the request headers are too large'));
    } else {
      answerAndClose(socket, 'HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    }
  });

  return {
    track(res) {
      responses.set(res.socket as Socket, res);
    },
  };
}
