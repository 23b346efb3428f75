import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

/** An ed25519 key pair made with ssh-keygen: the private key's file and the public line. */
export interface KeyPair {
  privateKeyFile: string;
  publicKey: string;
}

export async function generateKeyPair(dir: string, name: string, comment: string): Promise<KeyPair> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const privateKeyFile = path.join(dir, name);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', privateKeyFile]);
  return { privateKeyFile, publicKey: (await readFile(`${privateKeyFile}.pub`, 'utf8')).trim() };
}

/**
 * The known_hosts line that pins a host key for `127.0.0.1` on `port`: deployers use it with
 * StrictHostKeyChecking=yes, so a host whose key differs is refused, never accepted.
 */
export function knownHostsLine(port: number, hostPublicKey: string): string {
  const [type, key] = hostPublicKey.split(/\s+/);
  return `[127.0.0.1]:${port} ${type} ${key}`;
}
