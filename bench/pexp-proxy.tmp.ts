import { createServer, request as httpRequest, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { createProxy } from '../hypervisor/proxy/proxy.ts';
import { createLogger } from '../hypervisor/log.ts';
const [variant, portArg] = process.argv.slice(2);
const port = Number(portArg);
let server;
if (variant === 'nodehttp') {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  server = createServer((req, res) => {
    const up = httpRequest({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers, agent }, (ur) => { res.writeHead(ur.statusCode!, ur.headers); ur.pipe(res); });
    req.pipe(up);
  });
} else if (variant === 'undici-raw') {
  const pool = new Pool(`http://127.0.0.1:${port}`, { pipelining: Number(process.env.PIPE ?? 1) });
  server = createServer((req, res) => {
    pool.dispatch({ path: req.url!, method: 'GET', headers: { host: 'x' } }, {
      onRequestStart() {}, onResponseStart(_c, s, h) { res.writeHead(s, h as Record<string,string>); },
      onResponseData(_c, chunk) { res.write(chunk); }, onResponseEnd() { res.end(); }, onResponseError() { res.destroy(); },
    });
  });
} else if (variant === 'plain') {
  server = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 }); res.end('ok'); });
} else {
  const proxy = createProxy({ log: createLogger('x'), resolveTarget: async () => ({ port, role: 'live' }) });
  server = createServer((req, res) => void proxy.handleRequest(req, res, { userId: 'u1' }));
}
server.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port));
process.on('SIGTERM', () => process.exit(0));
