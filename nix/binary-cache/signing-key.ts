import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { runNix } from '../nix-cli.ts';

/** A cache signing key pair made by Nix itself (`nix key generate-secret`). */
export interface SigningKey {
  name: string;
  /** The secret key's file (0600): `nix copy --to URL?secret-key=<file>` signs with it. */
  secretFile: string;
  /** `name:base64`, what clients list in trusted-public-keys. */
  publicKey: string;
}

export async function generateSigningKey(dir: string, name: string): Promise<SigningKey> {
  const secret = await runNix(['key', 'generate-secret', '--key-name', name]);
  if (secret.exitCode !== 0) throw new Error(`nix key generate-secret failed: ${secret.stderr.trim()}`);
  mkdirSync(dir, { recursive: true });
  const secretFile = path.join(dir, `${name}.secret`);
  writeFileSync(secretFile, secret.stdout.trim(), { mode: 0o600 });
  chmodSync(secretFile, 0o600);
  const pub = await runNix(['key', 'convert-secret-to-public'], { input: secret.stdout.trim() });
  if (pub.exitCode !== 0) throw new Error(`nix key convert-secret-to-public failed: ${pub.stderr.trim()}`);
  return { name, secretFile, publicKey: pub.stdout.trim() };
}
