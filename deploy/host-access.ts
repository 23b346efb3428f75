import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DeploySection } from '../gate-runner/deploy-section.ts';
import { CommandTranscript } from './command-transcript.ts';
import { hypervisorUnit, stateDir } from './generation.ts';
import { readHealth, waitForHealth, type HealthReading } from './health.ts';
import { currentAndPrevious, parseDf, parseGenerations, parseJournal, parseMeminfo, type DiskHeadroom, type JournalEntry, type MemoryHeadroom, type ProfileGeneration } from './host-readings.ts';
import { HostCommandError, HostConnection } from './ssh.ts';

export interface Headroom {
  disk: DiskHeadroom;
  memory: MemoryHeadroom;
}

export interface HostGeneration extends ProfileGeneration {
  /** The store path the generation's profile link points at. */
  storePath: string;
}

export interface Generations {
  all: HostGeneration[];
  current: HostGeneration | undefined;
  /** The previous known-good: the generation a rollback returns to. */
  previous: HostGeneration | undefined;
}

/** Which run of the hypervisor unit answers: systemd's invocation, the generation that installed the unit, and /health. */
export interface ServedBy {
  invocationId: string;
  /** The unit's Description names the generation that wrote it ("ChoirOS hypervisor (generation LABEL)"). */
  unitDescription: string;
  execStart: string;
  health: HealthReading;
}

export interface HypervisorRestart {
  before: ServedBy;
  after: ServedBy;
  restartToHealthyMs: number;
}

/**
 * What Phase 5 reads from (and does to) the deployed host over SSH, with the `deploy` section's
 * pinned host key (deploy/ssh.ts: never accepted on first sight): the hypervisor's journal, a
 * restart of its unit, disk and memory headroom, and the system profile's generations. Every
 * command goes into `transcript`, evidence of what was run on the host.
 */
export class HostAccess {
  readonly deploy: DeploySection;
  readonly transcript: CommandTranscript;
  readonly #host: HostConnection;
  readonly #scratch: string;

  private constructor(deploy: DeploySection, host: HostConnection, transcript: CommandTranscript, scratch: string) {
    this.deploy = deploy;
    this.#host = host;
    this.transcript = transcript;
    this.#scratch = scratch;
  }

  static async open(deploy: DeploySection): Promise<HostAccess> {
    const transcript = new CommandTranscript();
    const scratch = await mkdtemp(path.join(tmpdir(), 'choiros-host-access-'));
    return new HostAccess(deploy, await HostConnection.open(deploy.ssh, transcript, scratch), transcript, scratch);
  }

  async close(): Promise<void> {
    await rm(this.#scratch, { recursive: true, force: true });
  }

  get #storeFlag(): string {
    return this.deploy.remoteStore ? `--store '${this.deploy.remoteStore}' ` : '';
  }

  /** The host's clock in seconds since the epoch: journal windows are in the host's time, not this machine's. */
  async clock(): Promise<number> {
    const { stdout } = await this.#host.run("read the host's clock", 'date +%s.%N');
    const seconds = Number(stdout.trim());
    if (!Number.isFinite(seconds)) throw new HostCommandError("read the host's clock", 'date +%s.%N', 0, stdout, 'the host printed no epoch time');
    return seconds;
  }

  /** The unit's journal from `since` (host epoch seconds) to `until` (default now). */
  async journal(since: number, until?: number, unit = hypervisorUnit): Promise<{ command: string; entries: JournalEntry[] }> {
    const command = `journalctl --no-pager -o json -u ${unit} --since @${since.toFixed(6)}${until === undefined ? '' : ` --until @${until.toFixed(6)}`}`;
    const { stdout } = await this.#host.run(`the journal of ${unit}`, command);
    return { command, entries: parseJournal(stdout) };
  }

  async servedBy(): Promise<ServedBy> {
    const { stdout } = await this.#host.run('which run of the hypervisor unit serves', `systemctl show -p InvocationID -p Description -p ExecStart ${hypervisorUnit}`);
    const property = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(stdout)?.[1]?.trim() ?? '';
    return { invocationId: property('InvocationID'), unitDescription: property('Description'), execStart: /path=(\S+)/.exec(property('ExecStart'))?.[1] ?? property('ExecStart'), health: await readHealth(this.deploy.healthUrl) };
  }

  /** `systemctl restart` of the hypervisor, then /health from the new process (another boot id). */
  async restartHypervisor(): Promise<HypervisorRestart> {
    const before = await this.servedBy();
    const started = performance.now();
    await this.#host.run('restart the hypervisor', `systemctl restart ${hypervisorUnit}`);
    const { reading } = await waitForHealth(this.deploy.healthUrl, this.deploy.healthTimeoutSecs * 1000, before.health.bootId);
    const restartToHealthyMs = performance.now() - started;
    // Healthy from the same boot id: the process that answered before the restart still answers.
    if (!reading.healthy || reading.bootId === before.health.bootId) {
      const seen = reading.healthy ? `still boot ${reading.bootId ?? '?'}, the process from before the restart` : `${reading.statusCode ?? 'no answer'} ${reading.body}`;
      throw new HostCommandError('restart the hypervisor', `systemctl restart ${hypervisorUnit}`, 1, seen, `the hypervisor did not answer healthy from a new process at ${this.deploy.healthUrl} within ${this.deploy.healthTimeoutSecs} s of its restart: look at journalctl -u ${hypervisorUnit} on the host.`);
    }
    return { before, after: await this.servedBy(), restartToHealthyMs };
  }

  /** Disk headroom where the hypervisor keeps its state, and memory headroom (MemAvailable). */
  async headroom(): Promise<Headroom> {
    const df = await this.#host.run('disk headroom', `df -P -k ${stateDir}`);
    const meminfo = await this.#host.run('memory headroom', 'cat /proc/meminfo');
    return { disk: parseDf(df.stdout, stateDir), memory: parseMeminfo(meminfo.stdout) };
  }

  /** The system profile's generations (the deploy CLI's), each with the store path it points at. */
  async generations(): Promise<Generations> {
    const listed = await this.#host.run('list generations', `nix-env ${this.#storeFlag}-p ${this.deploy.profile} --list-generations`);
    const all: HostGeneration[] = [];
    for (const generation of parseGenerations(listed.stdout)) {
      const link = await this.#host.run(`generation ${generation.number}'s store path`, `readlink -e ${this.deploy.profile}-${generation.number}-link`);
      all.push({ ...generation, storePath: link.stdout.trim() });
    }
    return { all, ...currentAndPrevious(all) };
  }

  /**
   * Writes one entry into the journal as one about the hypervisor unit (OBJECT_SYSTEMD_UNIT, sent as
   * root, which `journalctl -u` shows with the unit's own lines), through journald's native protocol
   * (`logger --journald`). For lines that plant known entries to prove a journal reading counts them.
   */
  async writeJournalEntry(entry: { identifier: string; priority: number; message: string }, unit = hypervisorUnit): Promise<void> {
    if (entry.message.includes('\n')) throw new Error(`a planted journal entry is one line: ${JSON.stringify(entry.message)}`);
    const fields = [`MESSAGE=${entry.message}`, `PRIORITY=${entry.priority}`, `SYSLOG_IDENTIFIER=${entry.identifier}`, `OBJECT_SYSTEMD_UNIT=${unit}`];
    await this.#host.run(`write a journal entry for ${unit} (priority ${entry.priority})`, 'logger --journald', { input: `${fields.join('\n')}\n` });
  }

  /** Runs `script` with bash on the host, with `env` set: commands an operator runs there (the playbook's host blocks), and readings of the host's own tools. */
  async runScript(step: string, script: string, env: Record<string, string> = {}): Promise<{ exitCode: number; stdout: string; output: string }> {
    const assignments = Object.entries(env).map(([name, value]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(name) || /['\n]/.test(value)) throw new Error(`${name}=${JSON.stringify(value)} cannot be passed to a host script: names are upper case, values have no quote or newline`);
      return `${name}='${value}'`;
    });
    return this.#host.run(step, `env ${assignments.join(' ')} bash --norc --noprofile -euo pipefail -s`, { input: script, allowFailure: true });
  }

  /** The root of Caddy's internal CA (`tls internal`, local stand-ins): what a browser must trust to verify the host's certificate. */
  async caddyLocalRoot(): Promise<string> {
    const file = `${stateDir}/caddy/caddy/pki/authorities/local/root.crt`;
    // Caddy makes its CA when it first serves; poll briefly rather than race its start.
    const { stdout } = await this.#host.run("Caddy's local root", `for i in $(seq 1 60); do [ -s ${file} ] && break; sleep 0.5; done; cat ${file}`);
    return stdout;
  }

  /** A digest of everything under the user's sandbox data on the host (file names, sizes and contents). */
  async dataDigest(userId: string): Promise<{ files: number; sha256: string }> {
    const dir = `${stateDir}/sandboxes/${userId}`;
    if (!/^[A-Za-z0-9_-]+$/.test(userId)) throw new Error(`"${userId}" is not a user id the host's data root holds (letters, digits, - and _)`);
    const { stdout } = await this.#host.run(`the data digest of ${userId}`, `cd ${dir} && find . -type f | LC_ALL=C sort | xargs -r sha256sum`);
    const listing = stdout.trim();
    return { files: listing ? listing.split('\n').length : 0, sha256: createHash('sha256').update(listing).digest('hex') };
  }
}
