import type { DeploySection } from '../gate-runner/deploy-section.ts';
import { resolveSecret } from '../gate-runner/secret-ref.ts';
import type { CommandTranscript } from './command-transcript.ts';
import { readHealth, waitForHealth, type HealthReading } from './health.ts';
import { stateDir } from './generation.ts';
import { HostCommandError, type HostConnection } from './ssh.ts';

/** The deploy's outcome: what is active now and whether anything changed. */
export interface ConvergeResult {
  changed: boolean;
  /** The generation active at the end (a store path) and its number in the profile. */
  active: string;
  generation: number | undefined;
  health: HealthReading;
  /** From the start of activation to the first healthy answer. */
  timeToHealthyMs: number | undefined;
}

/** The new generation failed (activation or health) and the host is back on the previous one. */
export class DeployRolledBackError extends Error {
  readonly failed: string;
  readonly restored: string;
  readonly timeToHealthyMs: number | undefined;
  constructor(failed: string, restored: string, why: string, timeToHealthyMs: number | undefined) {
    super(`deploy of ${failed} FAILED (${why}); rolled back on its own to ${restored}, which is healthy again${timeToHealthyMs === undefined ? '' : ` after ${Math.round(timeToHealthyMs)} ms`}. Fix the generation and deploy again.`);
    this.name = 'DeployRolledBackError';
    this.failed = failed;
    this.restored = restored;
    this.timeToHealthyMs = timeToHealthyMs;
  }
}

/**
 * The steps of `nixos-rebuild switch --target-host`, spelled out so each is in the transcript: copy
 * the closure to the host's store, point the system profile at it (a new generation), activate it
 * (`bin/switch-to-configuration switch`), and wait for the hypervisor's health.
 */
export class Converger {
  readonly #host: HostConnection;
  readonly #deploy: DeploySection;
  readonly #transcript: CommandTranscript;

  constructor(host: HostConnection, deploy: DeploySection, transcript: CommandTranscript) {
    this.#host = host;
    this.#deploy = deploy;
    this.#transcript = transcript;
  }

  get #storeFlag(): string {
    return this.#deploy.remoteStore ? `--store '${this.#deploy.remoteStore}' ` : '';
  }

  /** The store path the system profile points at, or undefined before the first deploy. */
  async activeGeneration(): Promise<string | undefined> {
    const { stdout } = await this.#host.run('read the active generation', `readlink -e ${this.#deploy.profile} || true`);
    return stdout.trim() || undefined;
  }

  async generationNumber(): Promise<number | undefined> {
    const { stdout } = await this.#host.run('list generations', `nix-env ${this.#storeFlag}-p ${this.#deploy.profile} --list-generations`, { allowFailure: true });
    const current = stdout.split('\n').find((line) => /\(current\)/.test(line));
    return current ? Number(current.trim().split(/\s+/)[0]) : undefined;
  }

  async #health(step: string, notBootId?: string): Promise<{ reading: HealthReading; ms: number }> {
    const waited = await waitForHealth(this.#deploy.healthUrl, this.#deploy.healthTimeoutSecs * 1000, notBootId);
    // Healthy, but from the boot id before activation: the old process still answers (activation
    // restarts the unit), so the generation asked for never started. That is no healthy switch.
    const stale = notBootId !== undefined && waited.reading.healthy && waited.reading.bootId === notBootId;
    const result = stale ? { ...waited, reading: { ...waited.reading, healthy: false, body: `still boot ${notBootId}, the process from before the switch: ${waited.reading.body}` } } : waited;
    this.#transcript.add({ step, command: `GET ${this.#deploy.healthUrl}`, exitCode: result.reading.healthy ? 0 : 1, ms: result.ms, output: `${result.reading.statusCode ?? 'no answer'} ${result.reading.body}` });
    return result;
  }

  /** Deploys `closure`; a second deploy of the active, healthy generation changes nothing and says so. */
  async deploy(closure: string): Promise<ConvergeResult> {
    const before = await this.activeGeneration();
    const beforeHealth = await readHealth(this.#deploy.healthUrl);
    if (before === closure && beforeHealth.healthy) {
      const generation = await this.generationNumber();
      this.#transcript.note(`no change: ${closure} is already the active generation${generation ? ` (${generation})` : ''} and healthy; nothing copied, switched or restarted.`);
      return { changed: false, active: closure, generation, health: beforeHealth, timeToHealthyMs: undefined };
    }
    await this.#host.local('copy the closure', 'nix', ['--extra-experimental-features', 'nix-command', 'copy', '--to', this.#copyUrl(), closure], {
      env: { NIX_SSHOPTS: this.#host.options().join(' ') },
      shown: `NIX_SSHOPTS='…pinned host key, deploy key…' nix copy --to ${this.#copyUrl()} ${closure}`,
    });
    await this.#installAdminToken();
    const previousGeneration = before ? await this.generationNumber() : undefined;
    if (before !== closure) await this.#host.run('switch the system profile', `nix-env ${this.#storeFlag}-p ${this.#deploy.profile} --set ${closure}`);
    const activated = performance.now();
    const activation = await this.#host.run('activate', `${this.#deploy.profile}/bin/switch-to-configuration switch`, { allowFailure: true });
    if (activation.exitCode !== 0) return this.#rollBack(closure, previousGeneration, `activation exited ${activation.exitCode}: ${activation.output.trim().split('\n').slice(-3).join(' / ')}`);
    const { reading } = await this.#health('wait for health', beforeHealth.bootId);
    if (!reading.healthy) return this.#rollBack(closure, previousGeneration, `the hypervisor did not answer healthy at ${this.#deploy.healthUrl} within ${this.#deploy.healthTimeoutSecs} s (last: ${reading.statusCode ?? 'no answer'} ${reading.body.slice(0, 200)})`);
    const generation = await this.generationNumber();
    this.#transcript.note(`deployed ${closure} as generation ${generation ?? '?'}; healthy.`);
    return { changed: true, active: closure, generation, health: reading, timeToHealthyMs: performance.now() - activated };
  }

  /** Back to the generation that was active before, and the failed one deleted, so no later rollback lands on it. */
  async #rollBack(failed: string, previous: number | undefined, why: string): Promise<never> {
    this.#transcript.note(`generation ${failed} failed: ${why}. Rolling back.`);
    if (previous === undefined) throw new HostCommandError('roll back', failed, 1, `${why}; there is no earlier generation to roll back to, so the host is left on the failed one: fix it and deploy again.`);
    const failedGeneration = await this.generationNumber();
    const { timeToHealthyMs, active } = await this.rollback(previous);
    if (failedGeneration !== undefined && failedGeneration !== previous) await this.#host.run('forget the failed generation', `nix-env ${this.#storeFlag}-p ${this.#deploy.profile} --delete-generations ${failedGeneration}`);
    throw new DeployRolledBackError(failed, active, why, timeToHealthyMs);
  }

  /** Back to the profile's previous generation (or generation `to`), activated and healthy. */
  async rollback(to?: number): Promise<ConvergeResult> {
    const from = await this.activeGeneration();
    const beforeHealth = await readHealth(this.#deploy.healthUrl);
    await this.#host.run('roll back the system profile', `nix-env ${this.#storeFlag}-p ${this.#deploy.profile} ${to === undefined ? '--rollback' : `--switch-generation ${to}`}`);
    const started = performance.now();
    await this.#host.run('activate the previous generation', `${this.#deploy.profile}/bin/switch-to-configuration switch`);
    const { reading } = await this.#health('wait for health after rollback', beforeHealth.healthy ? beforeHealth.bootId : undefined);
    const active = (await this.activeGeneration()) ?? '';
    const generation = await this.generationNumber();
    if (!reading.healthy) throw new HostCommandError('rollback', active, 1, `rolled back from ${from} to ${active} (generation ${generation}), but it did not answer healthy from a new process within ${this.#deploy.healthTimeoutSecs} s (last: ${reading.body.slice(0, 200)}): look at the host's journal (journalctl -u choiros-hypervisor).`);
    this.#transcript.note(`rolled back from ${from} to ${active} (generation ${generation ?? '?'}); healthy.`);
    return { changed: true, active, generation, health: reading, timeToHealthyMs: performance.now() - started };
  }

  /** The admin token goes over SSH on stdin into a 0600 file: never in the store, a unit or the transcript. The state directory is searchable (0711) because process sandboxes run as another user below it. */
  async #installAdminToken(): Promise<void> {
    const token = resolveSecret(this.#deploy.adminToken);
    this.#transcript.redact(token);
    await this.#host.run('install the admin token', `install -d -m 0711 ${stateDir} && umask 077 && cat > ${stateDir}/admin-token.new && mv ${stateDir}/admin-token.new ${stateDir}/admin-token`, { input: `${token}\n` });
  }

  #copyUrl(): string {
    const remote = this.#deploy.remoteStore ? `?remote-store=${encodeURIComponent(this.#deploy.remoteStore)}` : '';
    return `ssh://${this.#host.destination}${remote}`;
  }
}
