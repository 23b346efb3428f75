import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { clientAddressFrom } from '../../http/client-address.ts';
import { createLogger } from '../../log.ts';
import { openDatabase, type Database } from '../../store/database.ts';
import { createAuth, type Auth, type FailureLimits } from '../auth.ts';

export interface AuthServer {
  /** Where to connect (loopback). */
  url: string;
  /** The relying party origin the server expects in Origin and in client data. */
  origin: string;
  auth: Auth;
  db: Database;
  logLines: string[];
  close(): Promise<void>;
}

/**
 * The auth module on a real loopback server with a real SQLite file, behind a stand-in for the
 * hypervisor's pipeline: auth routes first, then a session guard in front of a "sandbox" answer.
 */
export interface AuthServerOptions {
  origin?: (port: number) => string;
  limits?: Partial<FailureLimits>;
  /** Peers whose X-Forwarded-For is believed (HYPERVISOR_TRUSTED_PROXIES). */
  trustedProxies?: string[];
}

export async function startAuthServer({ origin, limits, trustedProxies = [] }: AuthServerOptions = {}): Promise<AuthServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'choiros-auth-'));
  const db = openDatabase(`sqlite:${path.join(dir, 'hypervisor.db')}`);
  const logLines: string[] = [];
  const log = createLogger('auth-test', { write: (line: string) => void logLines.push(line) });
  const settings = { rpId: 'localhost', rpName: 'ChoirOS test', rpOrigin: '' };
  const auth = createAuth({ db, config: settings, log, clientAddress: clientAddressFrom(trustedProxies), ...(limits ? { limits } : {}) });
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', settings.rpOrigin);
    void auth.handle(req, res, url).then((handled) => {
      if (handled) return;
      const user = auth.sessionUser(req);
      if (!user) return auth.refuseUnauthenticated(req, res, url);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ sandbox_for: user.userId }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  settings.rpOrigin = origin ? origin(port) : `http://localhost:${port}`;
  return {
    url: `http://127.0.0.1:${port}`,
    origin: settings.rpOrigin,
    auth,
    db,
    logLines,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
