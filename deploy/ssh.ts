import { execa } from 'execa';
import type { SshEndpoint } from '../gate-runner/deploy-section.ts';
import type { CommandTranscript } from './command-transcript.ts';
import { knownHostsFor } from './known-hosts.ts';

/** A command on the host failed; the message says which, how, and what it printed. */
export class HostCommandError extends Error {
  readonly exitCode: number;
  readonly output: string;
  constructor(step: string, command: string, exitCode: number, output: string, advice?: string) {
    super(`${step}: ${advice ? `${advice}\n` : ''}"${command}" exited ${exitCode}: ${output.trim().split('\n').slice(-8).join('\n')}`);
    this.name = 'HostCommandError';
    this.exitCode = exitCode;
    this.output = output;
  }
}

/** ssh's own exit status for "could not connect or authenticate" (a remote command's status otherwise). */
export const sshFailure = 255;

/**
 * How every SSH connection of a deploy is made: key-only, batch (never a prompt), and the host key
 * checked against the pinned one with StrictHostKeyChecking=yes, so a changed or unknown key is
 * refused and never added. `nix copy` gets the same options through NIX_SSHOPTS.
 */
export class HostConnection {
  readonly endpoint: SshEndpoint;
  readonly knownHostsFile: string;
  readonly #transcript: CommandTranscript;

  constructor(endpoint: SshEndpoint, knownHostsFile: string, transcript: CommandTranscript) {
    this.endpoint = endpoint;
    this.knownHostsFile = knownHostsFile;
    this.#transcript = transcript;
  }

  static async open(endpoint: SshEndpoint, transcript: CommandTranscript, scratchDir: string): Promise<HostConnection> {
    return new HostConnection(endpoint, await knownHostsFor(endpoint, scratchDir), transcript);
  }

  get destination(): string {
    return `${this.endpoint.user}@${this.endpoint.host}`;
  }

  options(): string[] {
    return [
      '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${this.knownHostsFile}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'UpdateHostKeys=no',
      '-o', 'IdentitiesOnly=yes',
      '-o', 'PasswordAuthentication=no',
      '-o', 'ConnectTimeout=10',
      '-i', this.endpoint.identityFile,
      '-p', String(this.endpoint.port),
    ];
  }

  /** Runs `command` on the host through sh; recorded in the transcript; throws on a non-zero exit unless `allowFailure`. */
  async run(step: string, command: string, options: { input?: string; allowFailure?: boolean } = {}): Promise<{ exitCode: number; stdout: string; output: string }> {
    return this.local(step, 'ssh', [...this.options(), this.destination, command], { ...options, shown: `ssh ${this.destination} -p ${this.endpoint.port} '${command}'` });
  }

  /** Runs a command here (nix copy, nix build) with the same recording. */
  async local(step: string, file: string, args: readonly string[], options: { input?: string; allowFailure?: boolean; shown?: string; env?: Record<string, string> } = {}): Promise<{ exitCode: number; stdout: string; output: string }> {
    const started = performance.now();
    const result = await execa(file, args, { reject: false, all: true, ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }), ...(options.env ? { env: options.env } : {}) });
    const output = result.all ?? '';
    const exitCode = result.exitCode ?? -1;
    const shown = options.shown ?? [file, ...args].join(' ');
    this.#transcript.add({ step, command: shown, exitCode, ms: performance.now() - started, output });
    if (exitCode !== 0 && !options.allowFailure) throw explainSshFailure(this, step, shown, exitCode, output);
    return { exitCode, stdout: result.stdout ?? '', output };
  }
}

/** ssh's failures said as what to fix: a changed host key, an unreachable endpoint, a refused key. */
export function explainSshFailure(connection: HostConnection, step: string, shown: string, exitCode: number, output: string): Error {
  const where = `${connection.destination} port ${connection.endpoint.port}`;
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed|No (ED25519|RSA|ECDSA) host key is known/i.test(output)) {
    return new HostCommandError(step, shown, exitCode, output, `REFUSED: the host key of ${where} does not match the pinned key in ${connection.knownHostsFile} (deploy.ssh.hostKey / knownHostsFile). It is never accepted automatically: if the host was rebuilt on purpose, verify its new key out of band and update the target description; otherwise stop, someone may be in the middle.`);
  }
  if (/Connection refused|Connection timed out|No route to host|Could not resolve hostname|Network is unreachable/i.test(output)) {
    return new HostCommandError(step, shown, exitCode, output, `cannot reach SSH at ${where}: check deploy.ssh.host and deploy.ssh.port, that the instance runs, and that the security group allows SSH from this address (aws.sshCidrs).`);
  }
  if (/Permission denied \(publickey/i.test(output)) {
    return new HostCommandError(step, shown, exitCode, output, `the host refused the deploy key ${connection.endpoint.identityFile} for ${connection.endpoint.user}: check deploy.ssh.identityFile and the key pair the instance was launched with (aws.keyPair).`);
  }
  return new HostCommandError(step, shown, exitCode, output);
}
