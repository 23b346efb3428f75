import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, renameSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.ts';
import { fromRoot } from '../paths.ts';
import { ensureDataDir, type Owner } from './data-dir.ts';
import { sandboxEnv } from './env.ts';
import { fileTail } from './log-tail.ts';
import { allPids, isSameProcessAlive, processCommandLine, processEnviron, processStartTime } from './proc.ts';
import type { FoundInstance, LaunchRequest, RuntimeInstance, SandboxRuntime } from './runtime.ts';
import { parseRole, type SandboxKey } from './types.ts';
import { userIdPattern } from './user-id.ts';

export const sandboxEntry = fromRoot('hypervisor', 'workload', 'main.ts');

/**
 * The image's unprivileged user (sandboxUser in sandbox/image/build-context.ts, which a test keeps
 * equal), not imported from there because that module loads the image bundler.
 */
export const processSandboxUser: Owner = { uid: 1000, gid: 1000 };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Node's compile cache for the sandbox's modules, shared by this hypervisor's process sandboxes: a
 * warm start skips parsing and compiling them (about a third of a start). Passed as a preload on the
 * command line so that the sandbox's environment stays the allowlist. Process sandboxes all run as
 * one user, so a shared cache gives them nothing they could not already reach.
 */
function compileCachePreload(dir: string): string {
  const source = `import { enableCompileCache, flushCompileCache } from 'node:module'; enableCompileCache(${JSON.stringify(dir)}); setTimeout(flushCompileCache, 2000).unref();`;
  return `--import=data:text/javascript,${encodeURIComponent(source)}`;
}

export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code ?? 'unknown'}`;
}

/**
 * The Phase 1 fallback: the sandbox as a direct child process with the container's env contract.
 * Children are detached (their own process group, output to a log file) so that they outlive a
 * hypervisor restart and are adopted by pid, start time and environment. A root hypervisor runs them
 * as the image's unprivileged user (the owner podman mode gives the data too), so that a sandbox
 * cannot read the hypervisor's database, admin token or /proc/<pid>/environ.
 */
export class ProcessRuntime implements SandboxRuntime {
  readonly kind = 'process' as const;
  private readonly dataRoot: string;
  private readonly entry: string;
  private readonly log: Logger | undefined;
  /** Who the sandboxes run as; undefined when they share the hypervisor's (non-root) user. */
  readonly runAs: Owner | undefined;
  private readonly pollers = new Set<NodeJS.Timeout>();

  constructor(options: { dataRoot: string; entry?: string; log?: Logger; runAs?: Owner | null }) {
    this.dataRoot = path.resolve(options.dataRoot);
    this.entry = options.entry ?? sandboxEntry;
    this.log = options.log;
    this.runAs = options.runAs === undefined ? (process.getuid?.() === 0 ? processSandboxUser : undefined) : (options.runAs ?? undefined);
  }

  private get compileCacheDir(): string {
    return path.join(this.dataRoot, '.compile-cache');
  }

  async check(): Promise<void> {
    if (!existsSync(this.entry)) throw new Error(`the sandbox entry ${this.entry} is missing: the process runtime runs it with ${process.execPath}`);
    await mkdir(this.dataRoot, { recursive: true });
    if (!this.runAs) {
      this.log?.warn({ event: 'sandbox.process_shares_user', uid: process.getuid?.() }, 'process sandboxes run as the hypervisor\'s own user and could read its files; run the hypervisor as root (they then run as the sandbox user) or use SANDBOX_RUNTIME=podman');
      return;
    }
    this.checkReachable();
    await ensureDataDir(this.compileCacheDir, this.runAs);
  }

  /**
   * The sandbox user must be able to run Node, read the sandbox entry and walk to its data root.
   * Checked by doing exactly that as the sandbox user; never fixed by loosening permissions on
   * directories the hypervisor did not make (a 0700 home above the data root guards other files).
   */
  private checkReachable(): void {
    const runAs = this.runAs as Owner;
    const probe = `const fs=require('node:fs');fs.accessSync(${JSON.stringify(this.entry)},fs.constants.R_OK);fs.accessSync(${JSON.stringify(this.dataRoot)},fs.constants.X_OK)`;
    const result = spawnSync(process.execPath, ['--input-type=commonjs', '-e', probe], { uid: runAs.uid, gid: runAs.gid, env: {}, encoding: 'utf8', timeout: 15_000 });
    if (result.status === 0) return;
    const reason = (result.stderr.match(/Error: .*/)?.[0] ?? result.error?.message ?? `exit ${String(result.status)}`).trim();
    throw new Error(
      `process sandboxes run as uid ${runAs.uid} (the sandbox user), which cannot use ${process.execPath}, read ${this.entry} or reach the data root ${this.dataRoot}: ${reason}. ` +
        'Give others search permission on the directories above them (chmod o+x DIR, which does not allow listing), or choose another SANDBOX_DATA_ROOT or checkout location.',
    );
  }

  logFile(key: SandboxKey): string {
    return path.join(this.dataRoot, key.userId, `${key.role}.log`);
  }

  async launch(request: LaunchRequest): Promise<RuntimeInstance> {
    const env = sandboxEnv({ key: request.key, port: request.hostPort, dataDir: request.dataDir, config: request.spec.config });
    await ensureDataDir(request.dataDir, this.runAs);
    const logFile = this.logFile(request.key);
    // The previous run's output (perhaps a crash) stays readable next to the new one.
    if (existsSync(logFile)) renameSync(logFile, `${logFile}.1`);
    const output = openSync(logFile, 'a', 0o600);
    const child = spawn(process.execPath, [compileCachePreload(this.compileCacheDir), this.entry], {
      env: { ...env },
      cwd: request.dataDir,
      detached: true,
      stdio: ['ignore', output, output],
      ...(this.runAs ? { uid: this.runAs.uid, gid: this.runAs.gid } : {}),
    });
    closeSync(output);
    const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(describeExit(code, signal))));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) => reject(new Error(`could not start ${process.execPath} ${this.entry}: ${error.message}`)));
    });
    child.unref();
    const pid = child.pid as number;
    return { runtime: 'process', containerId: null, pid, pidStart: processStartTime(pid) ?? null, exited };
  }

  async stop(instance: RuntimeInstance, timeoutSecs: number): Promise<void> {
    const { pid, pidStart } = instance;
    if (pid === null || !isSameProcessAlive(pid, pidStart)) return;
    signalGroup(pid, 'SIGTERM');
    if (await this.gone(pid, pidStart, instance.exited, timeoutSecs * 1000)) return;
    signalGroup(pid, 'SIGKILL');
    if (!(await this.gone(pid, pidStart, instance.exited, 5_000))) throw new Error(`sandbox process ${pid} did not end after SIGKILL`);
  }

  private async gone(pid: number, start: string | null, exited: Promise<string>, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let done = false;
    void exited.then(() => {
      done = true;
    });
    while (Date.now() < deadline) {
      if (done || !isSameProcessAlive(pid, start)) return true;
      await sleep(10);
    }
    return done || !isSameProcessAlive(pid, start);
  }

  async find(): Promise<FoundInstance[]> {
    const found: FoundInstance[] = [];
    for (const pid of allPids()) {
      if (pid === process.pid || processCommandLine(pid)?.at(-1) !== this.entry) continue;
      const env = processEnviron(pid);
      const dataDir = env?.CHOIROS_DATA_DIR;
      const userId = env?.CHOIR_SANDBOX_USER_ID;
      if (!env || !dataDir || !userId || !dataDir.startsWith(`${this.dataRoot}${path.sep}`) || !userIdPattern.test(userId)) continue;
      let key: SandboxKey;
      try {
        key = { userId, role: parseRole(env.CHOIR_SANDBOX_ROLE ?? '') };
      } catch {
        continue;
      }
      const pidStart = processStartTime(pid) ?? null;
      if (isSameProcessAlive(pid, pidStart)) found.push({ key, running: true, containerId: null, pid, pidStart, image: null });
    }
    return found;
  }

  attach(found: FoundInstance): RuntimeInstance {
    const { pid, pidStart } = found;
    const exited = new Promise<string>((resolve) => {
      const poller = setInterval(() => {
        if (pid !== null && isSameProcessAlive(pid, pidStart)) return;
        clearInterval(poller);
        this.pollers.delete(poller);
        resolve('the adopted process ended (exit status unknown to a non-parent)');
      }, 250);
      poller.unref();
      this.pollers.add(poller);
    });
    return { runtime: 'process', containerId: null, pid, pidStart, exited };
  }

  async remove(found: FoundInstance, timeoutSecs: number): Promise<void> {
    await this.stop(this.attach(found), timeoutSecs);
  }

  logTail(key: SandboxKey, _instance: RuntimeInstance | undefined, lines: number): Promise<string> {
    return fileTail(this.logFile(key), lines);
  }

  async close(): Promise<void> {
    for (const poller of this.pollers) clearInterval(poller);
    this.pollers.clear();
  }
}

/** Signals the sandbox's process group (it leads one, being detached), or the process if the group is gone. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone: nothing to signal.
    }
  }
}
