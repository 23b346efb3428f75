import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { podman, podmanSpawnTied } from '../podman/podman.ts';
import type { Logger } from '../log.ts';

interface DiedEvent {
  ID?: string;
  Status?: string;
  ContainerExitCode?: number;
}

/**
 * Notices when this instance's containers die, from one long-running `podman events` stream
 * (cheaper and faster than polling `podman ps`). If the stream breaks it is restarted and the
 * watched containers are checked once, so a death during the gap is not missed.
 */
export class PodmanExitWatch {
  private readonly binary: string;
  private readonly instanceId: string;
  private readonly log: Logger;
  private readonly waiters = new Map<string, ((how: string) => void)[]>();
  /** Deaths seen before anyone asked (a container that died right after `podman run`). */
  private readonly recentDeaths = new Map<string, string>();
  private child: ChildProcess | undefined;
  private closed = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(options: { binary: string; instanceId: string; log: Logger }) {
    this.binary = options.binary;
    this.instanceId = options.instanceId;
    this.log = options.log;
  }

  start(): void {
    if (this.child || this.closed) return;
    const child = podmanSpawnTied(['events', '--format', 'json', '--filter', `label=choiros.instance=${this.instanceId}`, '--filter', 'event=died'], this.binary);
    this.child = child;
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => this.onLine(line));
    child.stderr?.resume();
    child.once('error', (error) => this.log.warn({ event: 'podman.events_error', binary: this.binary, error: error.message }, 'podman events failed'));
    child.once('exit', (code) => {
      child.stdin?.end();
      this.child = undefined;
      if (this.closed) return;
      this.log.warn({ event: 'podman.events_restart', binary: this.binary, exit_code: code }, 'podman events stopped; restarting it');
      this.restartTimer = setTimeout(() => {
        this.start();
        void this.sweep();
      }, 1_000);
      this.restartTimer.unref();
    });
    // `podman events` needs a moment before it streams; check once that nothing died meanwhile.
    setTimeout(() => void this.sweep(), 2_000).unref();
  }

  /** Settles when the container dies. */
  exitOf(containerId: string): Promise<string> {
    const seen = this.recentDeaths.get(containerId);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.set(containerId, [...(this.waiters.get(containerId) ?? []), resolve]));
  }

  private onLine(line: string): void {
    let event: DiedEvent;
    try {
      event = JSON.parse(line) as DiedEvent;
    } catch {
      return;
    }
    if (event.Status !== 'died' || !event.ID) return;
    this.died(event.ID, `exit code ${event.ContainerExitCode ?? 'unknown'}`);
  }

  private died(containerId: string, how: string): void {
    const waiters = this.waiters.get(containerId);
    if (waiters) {
      this.waiters.delete(containerId);
      for (const waiter of waiters) waiter(how);
      return;
    }
    this.recentDeaths.set(containerId, how);
    if (this.recentDeaths.size > 256) this.recentDeaths.delete(this.recentDeaths.keys().next().value as string);
  }

  private async sweep(): Promise<void> {
    for (const containerId of [...this.waiters.keys()]) {
      try {
        const state = (await podman(['container', 'inspect', '--format', '{{.State.Running}} {{.State.ExitCode}}', containerId], { binary: this.binary })).trim();
        const [running, exitCode] = state.split(' ');
        if (running !== 'true') this.died(containerId, `exit code ${exitCode ?? 'unknown'}`);
      } catch {
        this.died(containerId, 'the container no longer exists');
      }
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.restartTimer);
    this.child?.stdin?.end();
    this.child = undefined;
  }
}
