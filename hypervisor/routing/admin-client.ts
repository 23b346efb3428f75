import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';

/** Where the CLI finds the hypervisor and how it proves it is the admin. */
export interface AdminEndpoint {
  url: string;
  token: string;
}

export class AdminClientError extends Error {
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.name = 'AdminClientError';
    this.status = status;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The file a hypervisor started without a token generated: admin-token next to its database, or
 * next to its sandbox data root when the database is in memory. Mirrors config.ts (same defaults).
 */
export function generatedTokenFile(env: Env): string {
  const databaseUrl = env.HYPERVISOR_DATABASE_URL?.trim() || 'sqlite:./data/hypervisor.db';
  const database = /^sqlite:(.+)$/.exec(databaseUrl)?.[1];
  if (!database) throw new AdminClientError(`HYPERVISOR_DATABASE_URL="${databaseUrl}" is not sqlite:PATH: use the value the hypervisor runs with, or set HYPERVISOR_ADMIN_TOKEN`);
  const stateDir = database === ':memory:' ? path.dirname(path.resolve(env.SANDBOX_DATA_ROOT?.trim() || './data/sandboxes')) : path.dirname(path.resolve(database));
  return path.join(stateDir, 'admin-token');
}

function readTokenFile(file: string, variable: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new AdminClientError(`${variable}="${file}" cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): point it to the file holding the admin token`);
  }
}

/**
 * HYPERVISOR_URL (default http://127.0.0.1:$HYPERVISOR_PORT, port 9090) and the admin token as the
 * hypervisor finds it: HYPERVISOR_ADMIN_TOKEN, else the file named by HYPERVISOR_ADMIN_TOKEN_FILE,
 * else the one it generated next to its database (HYPERVISOR_DATABASE_URL).
 */
export function adminEndpointFromEnv(env: Env = process.env): AdminEndpoint {
  const url = env.HYPERVISOR_URL?.trim() || `http://127.0.0.1:${env.HYPERVISOR_PORT?.trim() || '9090'}`;
  try {
    new URL(url);
  } catch {
    throw new AdminClientError(`HYPERVISOR_URL="${url}" is not a URL: use the hypervisor's address, for example http://127.0.0.1:9090`);
  }
  const direct = env.HYPERVISOR_ADMIN_TOKEN?.trim();
  if (direct) return { url, token: direct };
  const file = env.HYPERVISOR_ADMIN_TOKEN_FILE?.trim();
  if (file) return { url, token: readTokenFile(file, 'HYPERVISOR_ADMIN_TOKEN_FILE') };
  const generated = generatedTokenFile(env);
  if (existsSync(generated)) return { url, token: readTokenFile(generated, 'the generated admin token file') };
  throw new AdminClientError(
    `no admin token: set HYPERVISOR_ADMIN_TOKEN, or HYPERVISOR_ADMIN_TOKEN_FILE to the file holding it; a hypervisor started without one writes ${generated} (next to HYPERVISOR_DATABASE_URL's database), and there is none`,
  );
}

/** Calls the admin API; resolves to the JSON answer of a 2xx, or throws with the hypervisor's own error message. */
export async function callAdmin(endpoint: AdminEndpoint, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const target = new URL(path, endpoint.url);
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(target, {
      method,
      headers: { authorization: `Bearer ${endpoint.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headersTimeout: 120_000,
      bodyTimeout: 120_000,
    });
  } catch (error) {
    throw new AdminClientError(`cannot reach the hypervisor at ${endpoint.url} (${(error as Error).message}): is it running? Set HYPERVISOR_URL to its address`);
  }
  const text = await res.body.text();
  let answer: unknown = text;
  try {
    answer = JSON.parse(text);
  } catch {
    // A non-JSON answer is reported as text.
  }
  if (res.statusCode >= 200 && res.statusCode < 300) return answer;
  const message = typeof answer === 'object' && answer !== null && 'error' in answer ? String((answer as { error: unknown }).error) : text;
  throw new AdminClientError(`${method} ${target.pathname} answered ${res.statusCode}: ${message}`, res.statusCode);
}
