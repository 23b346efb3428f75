import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { nixosDir } from './module-eval.ts';
import { offlineNixConfig } from './nixpkgs-lib.ts';

export const runbookFile = path.join(nixosDir, 'README.md');

/** The runbook's named procedures (```sh <name> blocks of hypervisor/nixos/README.md). */
export type RunbookStep = 'install' | 'switch' | 'rollback';

export function runbookBlock(name: string, markdown: string = readFileSync(runbookFile, 'utf8')): string {
  const match = new RegExp(`^\`\`\`sh ${name}\\n([\\s\\S]*?)^\`\`\`$`, 'm').exec(markdown);
  if (!match?.[1]) throw new Error(`${runbookFile} has no \`\`\`sh ${name} block: the gate runs the documented commands, so restore it`);
  return match[1];
}

/** Where a runbook step runs: the host's profile and closure, and how to reach it over SSH. */
export interface RunbookTarget {
  profile: string;
  closure?: string;
  ssh: { port: number; identityFile: string; knownHostsFile: string };
}

/**
 * Runs a documented procedure as written (the on-host helper, then the step's block) with bash -x,
 * so the transcript shows each command. Throws with the transcript when a command fails.
 */
export async function runRunbook(step: RunbookStep, target: RunbookTarget): Promise<{ script: string; transcript: string }> {
  const script = `set -euo pipefail\n${runbookBlock('on-host')}\nset -x\n${runbookBlock(step)}`;
  const result = await execa('bash', ['-c', script], {
    reject: false,
    all: true,
    env: {
      NIX_CONFIG: offlineNixConfig,
      PROFILE: target.profile,
      CLOSURE: target.closure ?? '',
      SSH_PORT: String(target.ssh.port),
      SSH_KEY: target.ssh.identityFile,
      KNOWN_HOSTS: target.ssh.knownHostsFile,
    },
  });
  const transcript = result.all ?? '';
  if (result.exitCode !== 0) throw new Error(`the runbook's "${step}" procedure failed (exit ${result.exitCode}):\n${transcript}`);
  return { script, transcript };
}
