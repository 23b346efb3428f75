import { connect } from 'node:net';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { allocatePort } from '../hypervisor/sandboxes/ports.ts';
import { waitUntilHealthy, type SandboxHealth } from '../hypervisor/sandboxes/health-probe.ts';

/** What a built program answered on GET /health, with the first lines it logged. */
export interface BuiltProgramHealth {
  binary: string;
  health: SandboxHealth;
  output: string;
  /** How it ended on SIGTERM: its exit, and whether its port was free afterwards (a program that
   * forwards the signal to its server exits 0 and frees the port; a wrapper that does not, leaves
   * the server running orphaned). */
  stopped: { code: number | null; signal: string | null; portFreed: boolean };
}

/**
 * Starts `<storePath>/bin/<program>` on a free loopback port with a throw-away data directory,
 * waits until GET /health answers healthy, then stops it (SIGTERM) and removes the directory.
 * `output` holds the first lines it logged up to its exit.
 */
export async function runBuiltProgram(storePath: string, program: 'choiros-hypervisor' | 'choiros-sandbox', deadlineMs = 30_000): Promise<BuiltProgramHealth> {
  const binary = path.join(storePath, 'bin', program);
  if (!existsSync(binary)) throw new Error(`${binary} is missing: the ${program} package's result must hold bin/${program}`);
  const port = await allocatePort(new Set());
  const data = mkdtempSync(path.join(tmpdir(), 'choiros-built-'));
  // A root hypervisor checks that its sandbox user can reach the data root (process-runtime.ts).
  chmodSync(data, 0o755);
  const env: NodeJS.ProcessEnv =
    program === 'choiros-hypervisor'
      ? {
          HYPERVISOR_PORT: String(port),
          HYPERVISOR_DATABASE_URL: `sqlite:${path.join(data, 'hypervisor.db')}`,
          SANDBOX_DATA_ROOT: path.join(data, 'sandboxes'),
          SANDBOX_RUNTIME: 'process',
          HYPERVISOR_ADMIN_TOKEN: randomBytes(24).toString('hex'),
          WEBAUTHN_RP_ID: 'localhost',
          WEBAUTHN_RP_ORIGIN: `http://localhost:${port}`,
        }
      : { PORT: String(port), CHOIROS_DATA_DIR: data };
  const child = spawn(binary, [], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let ended: { code: number | null; signal: string | null } = { code: null, signal: null };
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => {
      ended = { code, signal };
      resolve(`exit ${code ?? signal}: ${output.slice(-500)}`);
    }),
  );
  // 'close' comes after both pipes have ended, so every line the program wrote is in `output`.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let health: SandboxHealth;
  let portFreed: boolean;
  try {
    // Both answer the sandbox contract's {status: "healthy"}; the hypervisor has no instance role.
    health = await waitUntilHealthy({ port, role: 'live', deadlineMs, exited });
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    // The health answer and the log lines travel on different descriptors: the answer can arrive
    // before a line written just ahead of it, so the output is read once the program has ended.
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    portFreed = !(await portAccepts(port));
    // Whatever the program left running (a wrapper that did not pass SIGTERM on) is in its own
    // process group (detached): end the group on every path, a failed start included.
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
    rmSync(data, { recursive: true, force: true });
  }
  return { binary, health, output: output.slice(0, 2_000), stopped: { ...ended, portFreed } };
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
