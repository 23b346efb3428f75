import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sandboxMainScript } from '../sandbox-main.ts';

/**
 * The sandbox as a real child process (`node hypervisor/workload/main.ts`), the way the hypervisor's
 * process runtime starts it: a clean environment (never the test runner's, which may hold keys),
 * PORT=0, and its own data directory.
 */
export interface SandboxProcess {
  url: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  /** Everything it printed so far (JSON log lines on stdout, refusals on stderr). */
  output(): string;
  /** Sends `signal` and resolves when the process is gone and all it printed is in `output()`, with how long that took. */
  stop(signal?: NodeJS.Signals): Promise<SandboxExit & { ms: number }>;
}

export interface SandboxExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SandboxProcessOptions {
  env?: Record<string, string>;
  /** Reuse a data directory (to restart over the same state); a fresh temp dir otherwise. */
  dataDir?: string;
}

const readyDeadlineMs = 20_000;

export function tempDataDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'choir-sandbox-test-'));
}

export function removeDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

function spawnSandbox(dataDir: string, env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<SandboxExit> } {
  const child = spawn(process.execPath, [sandboxMainScript], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PORT: '0', CHOIROS_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  // 'close', not 'exit': 'exit' can come while its last lines are still in the pipes, and callers read the output once it has ended.
  const exited = new Promise<SandboxExit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  return { child, output: () => text, exited };
}

export async function startSandboxProcess(options: SandboxProcessOptions = {}): Promise<SandboxProcess> {
  const dataDir = options.dataDir ?? tempDataDir();
  const { child, output, exited } = spawnSandbox(dataDir, options.env ?? {});
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sandbox did not log sandbox.listening within ${readyDeadlineMs} ms:\n${output()}`)), readyDeadlineMs);
    const check = (): void => {
      const match = /"event":"sandbox\.listening".*?"port":(\d+)/.exec(output());
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', check);
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`sandbox exited (${JSON.stringify(exit)}) before listening:\n${output()}`));
    });
  });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<SandboxExit & { ms: number }> => {
    const started = performance.now();
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const exit = await exited;
    return { ...exit, ms: performance.now() - started };
  };
  return { url: `http://127.0.0.1:${port}`, port, dataDir, child, output, stop };
}

/** Runs a sandbox expected to refuse to start; resolves with its exit and output (fails after 20 s). */
export async function runRefusedSandbox(env: Record<string, string>): Promise<SandboxExit & { output: string }> {
  const dataDir = tempDataDir();
  const { child, output, exited } = spawnSandbox(dataDir, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), readyDeadlineMs);
  try {
    const exit = await exited;
    return { ...exit, output: output() };
  } finally {
    clearTimeout(timer);
    removeDataDir(dataDir);
  }
}
