import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** One request the cache answered: what Nix asked and what it got, the evidence of hits and misses. */
export interface CacheRequest {
  at: string;
  method: string;
  path: string;
  status: number;
  bytes: number;
}

export interface BinaryCache {
  url: string;
  dir: string;
  requests: CacheRequest[];
  close(): Promise<void>;
}

const narinfoPath = /^\/([0-9a-df-np-sv-z]{32})\.narinfo$/;
const narPath = /^\/nar\/([0-9a-z]+\.nar(?:\.(?:xz|zst|bz2|br|gz))?)$/;
const maxUpload = 2 * 1024 * 1024 * 1024;

/**
 * A Nix binary cache over HTTP on 127.0.0.1, the protocol Nix speaks to cache.nixos.org or FlakeHub
 * Cache: GET /nix-cache-info, GET|HEAD|PUT <hash>.narinfo (404 = miss), GET|HEAD|PUT nar/<file>.
 * Files live in `dir` (the layout of a file:// cache). Signing is Nix's job (`nix copy --to
 * URL?secret-key=…`); checking signatures is the client's. Every request lands in `requests`.
 */
export async function startBinaryCache(dir: string, options: { priority?: number } = {}): Promise<BinaryCache> {
  mkdirSync(path.join(dir, 'nar'), { recursive: true });
  const info = `StoreDir: /nix/store\nWantMassQuery: 1\nPriority: ${options.priority ?? 30}\n`;
  const requests: CacheRequest[] = [];

  function answer(req: IncomingMessage, res: ServerResponse, status: number, body?: string | { file: string; size: number }, type = 'text/plain'): void {
    const bytes = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.size;
    requests.push({ at: new Date().toISOString(), method: req.method ?? '', path: req.url ?? '', status, bytes });
    res.writeHead(status, { 'content-type': type, 'content-length': String(bytes) });
    if (req.method === 'HEAD' || body === undefined) return void res.end();
    if (typeof body === 'string') return void res.end(body);
    createReadStream(body.file).pipe(res);
  }

  async function receive(req: IncomingMessage, res: ServerResponse, file: string): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxUpload) return answer(req, res, 413, 'upload too large\n');
      chunks.push(chunk as Buffer);
    }
    // Write then rename: a reader never sees half a narinfo or NAR.
    const partial = `${file}.${process.pid}.part`;
    writeFileSync(partial, Buffer.concat(chunks));
    renameSync(partial, file);
    answer(req, res, 200, '');
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://cache');
    const method = req.method ?? 'GET';
    const name = url.pathname;
    if (name === '/nix-cache-info' && (method === 'GET' || method === 'HEAD')) return answer(req, res, 200, info);
    const narinfo = narinfoPath.exec(name);
    const nar = narPath.exec(name);
    const file = narinfo ? path.join(dir, `${narinfo[1]}.narinfo`) : nar ? path.join(dir, 'nar', String(nar[1])) : undefined;
    if (!file) return answer(req, res, 404, 'not a binary cache path\n');
    if (method === 'PUT') {
      receive(req, res, file).catch((error: Error) => answer(req, res, 500, `${error.message}\n`));
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') return answer(req, res, 405, 'method not allowed\n');
    if (!existsSync(file)) return answer(req, res, 404, 'not in this cache\n');
    return answer(req, res, 200, { file, size: statSync(file).size }, narinfo ? 'text/x-nix-narinfo' : 'application/x-nix-nar');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    dir,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
