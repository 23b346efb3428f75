import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as yieldToIo, setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer, type WebSocket } from 'ws';

export interface FloodOptions {
  /** Stop after this much has been sent. */
  totalBytes: number;
  messageBytes: number;
  /** Above this much unsent in its own socket, the sandbox waits for it to drain... */
  fullBytes: number;
  /** ...and gives up once it stayed full this long: it felt backpressure. */
  stuckMs: number;
}

export interface Flood {
  /** Messages handed to the socket; each starts with its sequence number (uint32). */
  sentMessages: number;
  stuck: boolean;
}

export interface FloodingSandbox {
  port: number;
  /** How the first connection's flood ended. */
  flooded: Promise<Flood>;
  close(): Promise<void>;
}

async function flood(ws: WebSocket, options: FloodOptions): Promise<Flood> {
  let sentMessages = 0;
  while (sentMessages * options.messageBytes < options.totalBytes) {
    const fullSince = Date.now();
    while (ws.bufferedAmount > options.fullBytes) {
      if (Date.now() - fullSince > options.stuckMs) return { sentMessages, stuck: true };
      await sleep(10);
    }
    const message = Buffer.alloc(options.messageBytes);
    message.writeUInt32BE(sentMessages);
    ws.send(message, { binary: true });
    sentMessages += 1;
    if (sentMessages % 8 === 0) await yieldToIo();
  }
  return { sentMessages, stuck: false };
}

/** A stand-in sandbox that sends WebSocket messages as fast as its socket takes them, on loopback. */
export async function startFloodingSandbox(options: FloodOptions): Promise<FloodingSandbox> {
  const server = createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  const flooded = new Promise<Flood>((resolve, reject) => {
    wss.once('connection', (ws) => void flood(ws, options).then(resolve, reject));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    flooded,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
