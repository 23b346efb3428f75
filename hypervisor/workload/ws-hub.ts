import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Logger } from '../log.ts';
import type { ConductorEvent } from './conductor.ts';
import { receivedReport, type ReceivedReport } from './received.ts';
import { runView } from './run.ts';
import type { RunStore } from './run-store.ts';
import type { SandboxSettings } from './settings.ts';
import { MalformedMessageError, parseClientMessage } from './ws-messages.ts';

const desktopStateRuns = 20;

/**
 * The desktop's live channel: `pong` on connect, `desktop_state` on subscribe, and each conductor
 * event pushed to the clients subscribed to that run's desktop. Diagnostics for a proxy's close
 * relay: `close` closes the asking connection with the code and reason it names, and the close a
 * client sent is told to the other subscribers of its desktops (`client_closed`). And for the
 * proxy's WebSocket leg: `received` answers what this connection's upgrade request carried (no
 * credential's value, the identity and forwarding headers), as GET /diagnostics/received does for HTTP.
 */
export class WsHub {
  readonly #server = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  readonly #desktops = new Map<WebSocket, Set<string>>();
  /** What each connection's upgrade request carried (received.ts), for the `received` diagnostic. */
  readonly #received = new WeakMap<WebSocket, ReceivedReport>();
  readonly #settings: SandboxSettings;
  readonly #store: RunStore;
  readonly #log: Logger;

  constructor(options: { settings: SandboxSettings; store: RunStore; log: Logger }) {
    this.#settings = options.settings;
    this.#store = options.store;
    this.#log = options.log;
  }

  /** Takes an HTTP upgrade for /ws; anything else is refused with a 404. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (new URL(req.url ?? '/', 'http://sandbox').pathname !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.#server.handleUpgrade(req, socket, head, (ws) => this.#connect(ws, receivedReport(req)));
  }

  publish(event: ConductorEvent): void {
    for (const [ws, desktops] of this.#desktops) {
      if (desktops.has(event.desktop_id)) this.#send(ws, event);
    }
  }

  get clientCount(): number {
    return this.#desktops.size;
  }

  /** Says goodbye (1001, going away) to every client; used on shutdown after the last events are sent. */
  close(): void {
    for (const ws of this.#desktops.keys()) ws.close(1001, 'sandbox stopping');
    this.#server.close();
  }

  #connect(ws: WebSocket, received: ReceivedReport): void {
    this.#desktops.set(ws, new Set());
    this.#received.set(ws, received);
    ws.on('message', (data, isBinary) => this.#receive(ws, data, isBinary));
    ws.on('close', (code, reason) => this.#closed(ws, code, reason.toString()));
    ws.on('error', (error) => this.#log.warn({ event: 'ws.error', err: error }, 'websocket error'));
    this.#send(ws, { type: 'pong' });
  }

  #receive(ws: WebSocket, data: RawData, isBinary: boolean): void {
    try {
      if (isBinary) throw new MalformedMessageError('binary frames are not understood: send JSON text');
      const message = parseClientMessage(data.toString());
      if (message.type === 'ping') return this.#send(ws, { type: 'pong' });
      if (message.type === 'received') return this.#send(ws, { type: 'received', ...this.#received.get(ws) });
      if (message.type === 'close') return ws.close(message.code, message.reason);
      this.#desktops.get(ws)?.add(message.desktop_id);
      this.#send(ws, {
        type: 'desktop_state',
        desktop_id: message.desktop_id,
        instance_role: this.#settings.role,
        runs: this.#store.list({ desktopId: message.desktop_id, limit: desktopStateRuns }).map(runView),
      });
    } catch (error) {
      if (error instanceof MalformedMessageError) return this.#send(ws, { type: 'error', message: error.message });
      this.#log.error({ event: 'ws.unexpected_error', err: error }, 'websocket message failed');
      this.#send(ws, { type: 'error', message: 'internal error handling the message; see the sandbox log' });
    }
  }

  /** Tells the other subscribers of the closed client's desktops the code and reason it closed with. */
  #closed(ws: WebSocket, code: number, reason: string): void {
    const desktops = this.#desktops.get(ws) ?? new Set<string>();
    this.#desktops.delete(ws);
    for (const desktopId of desktops) {
      for (const [other, subscribed] of this.#desktops) {
        if (subscribed.has(desktopId)) this.#send(other, { type: 'client_closed', desktop_id: desktopId, code, reason });
      }
    }
  }

  #send(ws: WebSocket, message: object): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  }
}
