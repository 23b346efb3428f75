import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { targetDescriptionFromEnv } from '../gate-runner/target-description.ts';

/** The variable the nightly workflow fills from the target environment's GATE_SSH_KEY secret. */
export const deployKeyVariable = 'GATE_SSH_KEY';

/**
 * Writes the deploy key a CI runner gets as a secret (GATE_SSH_KEY) to the file the target's
 * `deploy.ssh.identityFile` names, 0600 (in a 0700 directory when it creates one), so the Phase 5 host lines can reach
 * the host over SSH: a fresh runner has no key file, and a description holds no secret, only the
 * path. An existing file is left as it is (a person's own key is never overwritten). Answers the
 * path written, or why nothing was.
 */
export async function installDeployKey(env: NodeJS.ProcessEnv = process.env): Promise<{ written: string | undefined; why: string }> {
  const description = targetDescriptionFromEnv(env);
  const file = description.file ?? `targets/${description.name}.json`;
  if (!description.deploy) return { written: undefined, why: `${file} has no "deploy" section, so no host line needs a key` };
  const { identityFile: keyFile, knownHostsFile } = description.deploy.ssh;
  // The host key is the other half of reaching the host: a runner has no known_hosts file either, and
  // a host key is never accepted automatically, so a description for CI pins it inline.
  if (knownHostsFile && !existsSync(knownHostsFile)) throw new Error(`${file}'s deploy.ssh.knownHostsFile (${knownHostsFile}) does not exist on this machine: for a CI runner pin the host key inline with deploy.ssh.hostKey (one public key line) instead`);
  if (existsSync(keyFile)) return { written: undefined, why: `${keyFile} exists already; left as it is` };
  const key = env[deployKeyVariable] ?? '';
  if (!key.trim()) throw new Error(`${deployKeyVariable} is empty: set it (the private key of ${file}'s deploy.ssh.identityFile, a secret of the "${description.name}" environment), so the host lines can reach ${description.deploy.ssh.host} over SSH`);
  // The mode applies to the directories created here; an existing parent keeps its own.
  await mkdir(path.dirname(keyFile), { recursive: true, mode: 0o700 });
  // ssh refuses a key without its final newline ("invalid format").
  await writeFile(keyFile, key.endsWith('\n') ? key : `${key}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(keyFile, 0o600);
  return { written: keyFile, why: `${deployKeyVariable} written to ${file}'s deploy.ssh.identityFile` };
}
