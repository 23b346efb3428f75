import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, existsSync, openSync, renameSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.ts';
import { fromRoot } from '../paths.ts';
import { ensureDataDir, type Owner } from './data-dir.ts';
import { sandboxEnv } from './env.ts';
import { inNixStore, stageRuntime, stagedEntryName, stagedRuntimesFolder, type StagedRuntime } from './staged-runtime.ts';
import { fileTail } from './log-tail.ts';
import { allPids, isSameProcessAlive, processCommandLine, processEnviron, processStartTime } from './proc.ts';
import type { FoundInstance, LaunchRequest, RuntimeInstance, SandboxRuntime } from './runtime.ts';
import { parseRole } from '../domain/role.ts';
import type { SandboxKey } from '../domain/sandbox.ts';
import { userIdPattern } from './user-id.ts';

/** The sandbox's source entry, for running it straight from the checkout (benches, tests); sandboxes run a staged bundle. */
export const sandboxEntry = fromRoot('hypervisor', 'workload', 'main.ts');

/**
 * The image's unprivileged user (sandboxUser in sandbox/image/build-context.ts, which a test keeps
 * equal), not imported from there because that module loads the image bundler.
 */
export const processSandboxUser: Owner = { uid: 1000, gid: 1000 };


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
  /** Node and the sandbox bundle, staged under the data root by check() (see staged-runtime.ts). */
  private staged: StagedRuntime | undefined;
  private readonly log: Logger | undefined;
  /** Who the sandboxes run as; undefined when they share the hypervisor's (non-root) user. */
  readonly runAs: Owner | undefined;
  private readonly pollers = new Set<NodeJS.Timeout>();

  constructor(options: { dataRoot: string; log?: Logger; runAs?: Owner | null }) {
    this.dataRoot = path.resolve(options.dataRoot);
    this.log = options.log;
    this.runAs = options.runAs === undefined ? (process.getuid?.() === 0 ? processSandboxUser : undefined) : (options.runAs ?? undefined);
  }

  private get compileCacheDir(): string {
    return path.join(this.dataRoot, '.compile-cache');
  }

  async check(): Promise<void> {
    if (!existsSync(sandboxEntry)) throw new Error(`the sandbox entry ${sandboxEntry} is missing: the process runtime bundles it to run with ${process.execPath}`);
    await mkdir(this.dataRoot, { recursive: true });
    await this.runtime();
    if (!this.runAs) {
      this.log?.warn({ event: 'sandbox.process_shares_user', uid: process.getuid?.() }, 'process sandboxes run as the hypervisor\'s own user and could read its files; run the hypervisor as root (they then run as the sandbox user) or use SANDBOX_RUNTIME=podman');
      return;
    }
    this.checkReachable();
    await ensureDataDir(this.compileCacheDir, this.runAs);
  }

  /** The staged runtime, staging it on first use. */
  private async runtime(): Promise<StagedRuntime> {
    this.staged ??= await stageRuntime(this.dataRoot, process.execPath, sandboxEntry).catch((error: Error) => {
      throw new Error(`cannot stage the process sandbox's runtime (Node and the sandbox bundle) under ${path.join(this.dataRoot, stagedRuntimesFolder)}: ${error.message}. Check that the data root (SANDBOX_DATA_ROOT) is writable.`, { cause: error });
    });
    return this.staged;
  }

  /**
   * The sandbox user must be able to run the staged Node, read the staged bundle and walk to its
   * data root. Checked by doing exactly that as the sandbox user; never fixed by loosening
   * permissions on directories the hypervisor did not make (a 0700 home above the data root guards
   * other files). Every way the probe can fail (it may not even start) ends in this one message.
   */
  private checkReachable(): void {
    const runAs = this.runAs as Owner;
    const { node, entry } = this.staged as StagedRuntime;
    const probe = `const fs=require('node:fs');fs.accessSync(${JSON.stringify(entry)},fs.constants.R_OK);fs.accessSync(${JSON.stringify(this.dataRoot)},fs.constants.X_OK)`;
    const result = spawnSync(node, ['--input-type=commonjs', '-e', probe], { uid: runAs.uid, gid: runAs.gid, env: {}, encoding: 'utf8', timeout: 15_000 });
    if (result.status === 0) return;
    const reason = probeFailure(result);
    throw new Error(
      `process sandboxes run as uid ${runAs.uid} (the sandbox user), which cannot use ${node}, read ${entry} or reach the data root ${this.dataRoot}: ${reason}. ` +
        'Give others search permission on the directories above the data root (chmod o+x DIR, which does not allow listing), or choose another SANDBOX_DATA_ROOT.',
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
    const { node, entry } = await this.runtime();
    const child = spawn(node, [compileCachePreload(this.compileCacheDir), entry], {
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
      child.once('error', (error) => reject(new Error(`could not start ${node} ${entry}: ${error.message}`)));
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
      if (pid === process.pid || !this.isStagedEntry(processCommandLine(pid)?.at(-1))) continue;
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

  /** A sandbox started from any runtime staged under this data root (an older version's too, to adopt it). */
  private isStagedEntry(argument: string | undefined): boolean {
    if (argument === undefined) return false;
    // Run in place from the Nix store (staged-runtime.ts): the same program, adopted like a staged one.
    if (inNixStore(argument) && argument === this.staged?.entry) return true;
    const relative = path.relative(path.join(this.dataRoot, stagedRuntimesFolder), argument);
    return !relative.startsWith('..') && !path.isAbsolute(relative) && relative.split(path.sep).length === 2 && path.basename(argument) === stagedEntryName;
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

/** Why the probe failed: its error output, else why it could not start at all, else how it ended. */
function probeFailure(result: SpawnSyncReturns<string>): string {
  const printed = (result.stderr ?? '').match(/Error: .*/)?.[0];
  if (printed) return printed.trim();
  if (result.error) return result.error.message;
  return result.signal ? `the probe was killed by ${result.signal}` : `the probe exited with status ${String(result.status)}`;
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
