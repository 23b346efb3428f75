import { existsSync, readFileSync } from 'node:fs';
import { ConfigError, generatedTokenFile, hypervisorPort, type Env } from '../config.ts';
import { readString } from '../env-values.ts';
import { AdminCallError } from './admin-call-error.ts';

/** Where the CLI finds the hypervisor and how it proves it is the admin. */
export interface AdminEndpoint {
  url: string;
  token: string;
}

/**
 * The file a hypervisor started without a token generated, where config.ts puts it; a database
 * URL the hypervisor would refuse is an error naming it.
 */
function generatedTokenFileOf(env: Env): string {
  try {
    return generatedTokenFile(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const databaseUrl = readString(env, 'HYPERVISOR_DATABASE_URL') ?? '';
    throw new AdminCallError(`HYPERVISOR_DATABASE_URL="${databaseUrl}" is not sqlite:PATH: use the value the hypervisor runs with, or set HYPERVISOR_ADMIN_TOKEN`);
  }
}

function readTokenFile(file: string, variable: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new AdminCallError(`${variable}="${file}" cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): point it to the file holding the admin token`);
  }
}

/**
 * HYPERVISOR_URL (default http://127.0.0.1:$HYPERVISOR_PORT, port 9090) and the admin token as the
 * hypervisor finds it: HYPERVISOR_ADMIN_TOKEN, else the file named by HYPERVISOR_ADMIN_TOKEN_FILE,
 * else the one it generated next to its database (HYPERVISOR_DATABASE_URL).
 */
export function adminEndpointFromEnv(env: Env = process.env): AdminEndpoint {
  const url = readString(env, 'HYPERVISOR_URL') ?? `http://127.0.0.1:${hypervisorPort(env)}`;
  try {
    new URL(url);
  } catch {
    throw new AdminCallError(`HYPERVISOR_URL="${url}" is not a URL: use the hypervisor's address, for example http://127.0.0.1:9090`);
  }
  const direct = readString(env, 'HYPERVISOR_ADMIN_TOKEN');
  if (direct) return { url, token: direct };
  const file = readString(env, 'HYPERVISOR_ADMIN_TOKEN_FILE');
  if (file) return { url, token: readTokenFile(file, 'HYPERVISOR_ADMIN_TOKEN_FILE') };
  const generated = generatedTokenFileOf(env);
  if (existsSync(generated)) return { url, token: readTokenFile(generated, 'the generated admin token file') };
  throw new AdminCallError(
    `no admin token: set HYPERVISOR_ADMIN_TOKEN, or HYPERVISOR_ADMIN_TOKEN_FILE to the file holding it; a hypervisor started without one writes ${generated} (next to HYPERVISOR_DATABASE_URL's database), and there is none`,
  );
}
