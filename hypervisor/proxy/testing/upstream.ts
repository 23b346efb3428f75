import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** What a stand-in sandbox saw of one request. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface SeenUpgrade {
  url: string;
  headers: IncomingHttpHeaders;
}

/**
 * A stand-in sandbox on loopback: records what reaches it and answers with the behaviours the proxy
 * must carry (echo, server-sent events, slow and large answers, cookies, a WebSocket echo).
 */
export interface Upstream {
  port: number;
  requests: SeenRequest[];
  upgrades: SeenUpgrade[];
  /** The server side of each WebSocket, in connection order. */
  sockets: WebSocket[];
  /** Sends the next event on open /events streams. */
  sendEvent(data: string): void;
  close(): Promise<void>;
}

export async function startUpstream(name = 'sandbox'): Promise<Upstream> {
  const requests: SeenRequest[] = [];
  const upgrades: SeenUpgrade[] = [];
  const sockets: WebSocket[] = [];
  const streams = new Set<import('node:http').ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(seen);
      const url = new URL(req.url ?? '/', 'http://upstream');
      switch (url.pathname) {
        case '/events':
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          res.write(': open\n\n');
          streams.add(res);
          res.on('close', () => streams.delete(res));
          return;
        case '/slow':
          setTimeout(() => res.end('late'), Number(url.searchParams.get('ms') ?? 1000));
          return;
        case '/large': {
          const bytes = Number(url.searchParams.get('bytes') ?? 0);
          if (url.searchParams.get('declared') === '1') {
            res.writeHead(200, { 'content-length': bytes });
            res.end(Buffer.alloc(bytes, 0x61));
            return;
          }
          // Written in pieces, so the length is not known up front (chunked).
          for (let sent = 0; sent < bytes; sent += 1024) res.write(Buffer.alloc(Math.min(1024, bytes - sent), 0x61));
          res.end();
          return;
        }
        case '/cookie':
          res.writeHead(200, {
            'set-cookie': ['choiros_session=planted; Path=/', 'another=1; Path=/'],
            'clear-site-data': '"cookies", "storage"',
            'service-worker-allowed': '/',
            'strict-transport-security': 'max-age=31536000; includeSubDomains',
            nel: '{"report_to":"sandbox","max_age":31536000}',
            'report-to': '{"group":"sandbox","max_age":31536000,"endpoints":[{"url":"https://sandbox.example/reports"}]}',
            'reporting-endpoints': 'sandbox="https://sandbox.example/reports"',
            'alt-svc': 'h2="sandbox.example:443"; ma=86400',
            'x-sandbox': name,
            connection: 'x-hop',
            'x-hop': '1',
          });
          res.end('ok');
          return;
        default:
          res.writeHead(200, { 'content-type': 'application/json', 'x-sandbox': name });
          res.end(JSON.stringify({ sandbox: name, ...seen }));
      }
    });
  });
  const wss = new WebSocketServer({ server, autoPong: true, handleProtocols: (offered) => (offered.has('choir.v1') ? 'choir.v1' : false) });
  wss.on('connection', (ws, req) => {
    upgrades.push({ url: req.url ?? '', headers: req.headers });
    sockets.push(ws);
    ws.send(JSON.stringify({ type: 'pong', sandbox: name }));
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? null : data.toString();
      if (text?.startsWith('close:')) {
        const [, code, reason] = text.split(':');
        ws.close(Number(code), reason);
        return;
      }
      ws.send(data, { binary: isBinary });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    upgrades,
    sockets,
    sendEvent(data) {
      for (const res of streams) res.write(`data: ${data}\n\n`);
    },
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
