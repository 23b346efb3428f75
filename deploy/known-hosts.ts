import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SshEndpoint } from '../gate-runner/deploy-section.ts';

/**
 * The known_hosts file ssh checks the host against: the description's own file, or one written from
 * its pinned `hostKey`. Either way it holds only what the description pins; ssh never adds to it
 * (StrictHostKeyChecking=yes).
 */
export async function knownHostsFor(endpoint: SshEndpoint, scratchDir: string): Promise<string> {
  if (endpoint.knownHostsFile) return endpoint.knownHostsFile;
  const file = path.join(scratchDir, 'known_hosts');
  const name = endpoint.port === 22 ? endpoint.host : `[${endpoint.host}]:${endpoint.port}`;
  await writeFile(file, `${name} ${endpoint.hostKey}\n`, { mode: 0o600 });
  return file;
}
