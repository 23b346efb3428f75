import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { refuseUpgrade } from '../http/refuse-upgrade.ts';
import { identityHeaders } from './headers.ts';
import type { ProxyLimits } from './limits.ts';
import type { SandboxLeg } from './sandbox-leg.ts';
import type { RelayedWebSocket } from './traffic.ts';

/** RFC 6455 4.1: subprotocols are distinct HTTP tokens. */
const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The offered subprotocols, or why the header is unusable (the ws client would throw on it). */
export function offeredProtocols(header: string | undefined): string[] | { invalid: string } {
  const offered = (header ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  const bad = offered.find((p) => !token.test(p));
  if (bad !== undefined) return { invalid: `Sec-WebSocket-Protocol offers ${JSON.stringify(bad)}, which is not a valid subprotocol token: offer comma-separated tokens` };
  if (new Set(offered).size !== offered.length) return { invalid: `Sec-WebSocket-Protocol offers a subprotocol twice (${JSON.stringify(header)}): offer each one once` };
  return offered;
}

/**
 * Backpressure: once this much waits to be written to one side, the relay stops reading from the
 * other (TCP then slows the sender down) until it has drained below lowWaterBytes. Without it a fast
 * sandbox and a slow client would pile the difference up in the hypervisor's memory.
 */
export const highWaterBytes = 1024 * 1024;
const lowWaterBytes = 256 * 1024;

/** Close codes that may not be sent in a close frame (RFC 6455 7.4.1). */
const unsendable = new Set([1004, 1005, 1006, 1015]);

function closeCounterpart(socket: WebSocket, code: number, reason: Buffer): void {
  if (socket.readyState === WebSocket.CLOSED || socket.readyState === WebSocket.CLOSING) return;
  if (code === 1005) socket.close();
  // The other side vanished without a close frame: 1014 is "bad gateway" for WebSockets.
  else if (unsendable.has(code)) socket.close(1014, 'the other side of the relay closed abnormally');
  else socket.close(code, reason);
}

export interface RelayUpgrade extends SandboxLeg {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  /** Called when the client is connected: registers the pair; returns the function that unregisters it. */
  opened(relayed: RelayedWebSocket): () => void;
  /** Activity, for the sandbox's idle timeout. */
  active(): void;
}

/**
 * WebSocket relay: connect to the sandbox first (so a refusal can still be an HTTP answer), then
 * accept the client. Frames pass through as they are: text stays text, binary stays binary, pings
 * and pongs are forwarded rather than answered here, and a close on either side closes the other
 * with the same code.
 */
export class WebSocketRelay {
  readonly #clients: WebSocketServer;
  readonly #protocols = new WeakMap<IncomingMessage, string>();

  constructor(limits: ProxyLimits) {
    this.#clients = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      autoPong: false,
      maxPayload: limits.maxWebSocketMessageBytes,
      handleProtocols: (_offered, request) => this.#protocols.get(request) ?? false,
    });
  }

  relay(upgrade: RelayUpgrade): void {
    const { req, socket, head, limits, log, identity } = upgrade;
    const offered = offeredProtocols(req.headers['sec-websocket-protocol']);
    if (!Array.isArray(offered)) {
      log.warn({ event: 'proxy.websocket_refused', path: upgrade.path, user: identity.userId, role: identity.role, status: 400, reason: offered.invalid });
      refuseUpgrade(socket, 400, offered.invalid);
      return;
    }
    const sandbox = new WebSocket(`ws://127.0.0.1:${upgrade.port}${upgrade.path}`, offered, {
      headers: identityHeaders(identity, upgrade.forwarding, req.headers.host),
      perMessageDeflate: false,
      autoPong: false,
      maxPayload: limits.maxWebSocketMessageBytes,
      handshakeTimeout: limits.webSocketHandshakeTimeoutMs,
      followRedirects: false,
    });
    // Frames the sandbox sends before the client is accepted (its greeting) wait here.
    const early: Array<[RawData, boolean]> = [];
    const bufferEarly = (data: RawData, isBinary: boolean): void => void early.push([data, isBinary]);
    sandbox.on('message', bufferEarly);
    let accepted = false;
    const abandon = (): void => sandbox.terminate();
    socket.once('close', abandon);

    sandbox.once('unexpected-response', (_request, response) => {
      response.resume();
      refuseUpgrade(socket, 502, `the sandbox refused the WebSocket upgrade with HTTP ${response.statusCode}`);
      sandbox.terminate();
    });
    sandbox.on('error', (error: Error & { code?: string }) => {
      if (accepted) {
        log.warn({ event: 'proxy.websocket_error', side: 'sandbox', user: identity.userId, role: identity.role, reason: error.message });
        return;
      }
      const timedOut = /timed out/i.test(error.message);
      const status = timedOut ? 504 : 502;
      const message = timedOut
        ? `the sandbox did not accept the WebSocket within ${limits.webSocketHandshakeTimeoutMs} ms`
        : error.code === 'ECONNREFUSED'
          ? `the sandbox refused the connection (port ${upgrade.port}): it may be restarting; retry shortly`
          : `the sandbox WebSocket failed (${error.code ?? error.message})`;
      log.warn({ event: 'proxy.error', path: upgrade.path, user: identity.userId, role: identity.role, status, reason: message, websocket: true });
      refuseUpgrade(socket, status, message);
    });

    sandbox.once('open', () => {
      socket.off('close', abandon);
      if (socket.destroyed) {
        sandbox.terminate();
        return;
      }
      if (sandbox.protocol) this.#protocols.set(req, sandbox.protocol);
      this.#clients.handleUpgrade(req, socket, head, (client) => {
        accepted = true;
        this.#wire(client, sandbox, upgrade);
        sandbox.off('message', bufferEarly);
        for (const [data, isBinary] of early) client.send(data, { binary: isBinary });
        early.length = 0;
      });
    });
  }

  /**
   * Accepts the client's WebSocket only to close it at once with `code`: a browser's script sees
   * the close code and reason, where a refused upgrade would only show a failed connection.
   */
  refuseWithClose(req: IncomingMessage, socket: Duplex, head: Buffer, code: number, reason: string): void {
    if (socket.destroyed) return;
    // A client that offered subprotocols fails the handshake unless one is chosen; it closes at once anyway.
    const offered = offeredProtocols(req.headers['sec-websocket-protocol']);
    if (Array.isArray(offered) && offered[0] !== undefined) this.#protocols.set(req, offered[0]);
    this.#clients.handleUpgrade(req, socket, head, (client) => client.close(code, reason));
  }

  #wire(client: WebSocket, sandbox: WebSocket, upgrade: RelayUpgrade): void {
    const { log, identity } = upgrade;
    const unregister = upgrade.opened({
      close(code, reason) {
        // A side paused for backpressure must read again, or its close handshake waits out ws's 30 s timer.
        client.resume();
        sandbox.resume();
        client.close(code, reason);
        sandbox.close(1001, reason);
      },
      terminate() {
        client.terminate();
        sandbox.terminate();
      },
    });
    let lastActive = 0;
    const active = (): void => {
      const now = Date.now();
      if (now - lastActive < 1_000) return;
      lastActive = now;
      upgrade.active();
    };
    active();

    const forward = (from: WebSocket, to: WebSocket) => {
      const drained = (): void => {
        if (from.isPaused && to.bufferedAmount <= lowWaterBytes) from.resume();
      };
      return (data: RawData, isBinary: boolean): void => {
        active();
        if (to.readyState !== WebSocket.OPEN) return;
        to.send(data, { binary: isBinary }, drained);
        if (!from.isPaused && to.bufferedAmount > highWaterBytes) from.pause();
      };
    };
    client.on('message', forward(client, sandbox));
    sandbox.on('message', forward(sandbox, client));
    client.on('ping', (data) => sandbox.readyState === WebSocket.OPEN && sandbox.ping(data));
    client.on('pong', (data) => sandbox.readyState === WebSocket.OPEN && sandbox.pong(data));
    sandbox.on('ping', (data) => client.readyState === WebSocket.OPEN && client.ping(data));
    sandbox.on('pong', (data) => client.readyState === WebSocket.OPEN && client.pong(data));

    let ended = false;
    const end = (side: 'client' | 'sandbox', code: number): void => {
      if (ended) return;
      ended = true;
      unregister();
      log.info({ event: 'proxy.websocket_closed', user: identity.userId, role: identity.role, closed_by: side, code });
    };
    // A side paused for backpressure must read again to see the close handshake.
    client.on('close', (code, reason) => {
      sandbox.resume();
      closeCounterpart(sandbox, code, reason);
      end('client', code);
    });
    sandbox.on('close', (code, reason) => {
      client.resume();
      closeCounterpart(client, code, reason);
      end('sandbox', code);
    });
    sandbox.on('error', (error: Error & { code?: string }) => {
      // ws closes a sandbox leg that broke maxPayload without reading the close answer, so its close
      // event says 1006 (abnormal); the client must learn the real reason, 1009, as the limit promises.
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') closeCounterpart(client, 1009, Buffer.from('the sandbox sent a message over the size limit'));
    });
    client.on('error', (error) => {
      log.warn({ event: 'proxy.websocket_error', side: 'client', user: identity.userId, role: identity.role, reason: error.message });
    });
    log.info({ event: 'proxy.websocket_opened', user: identity.userId, role: identity.role, path: upgrade.path });
  }

  close(): void {
    this.#clients.close();
  }
}
