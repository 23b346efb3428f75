import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import type { Role } from '../domain/role.ts';

/** The sandbox's GET /health answer (the contract's shape; only what readiness needs). */
export interface SandboxHealth {
  status: string;
  instance_role?: string;
  version?: string;
}

/** Probes do not reuse connections: each one asks a possibly new process. */
const probeAgent = new Agent({ pipelining: 0, connect: { timeout: 1_000 } });

/** One GET /health; undefined when nothing healthy answered within timeoutMs. */
export async function probeHealth(port: number, timeoutMs = 1_000): Promise<SandboxHealth | undefined> {
  try {
    const res = await request(`http://127.0.0.1:${port}/health`, {
      dispatcher: probeAgent,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) return undefined;
    const body = JSON.parse(text) as SandboxHealth;
    return body.status === 'healthy' ? body : undefined;
  } catch {
    return undefined;
  }
}

export class NotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotReadyError';
  }
}

export interface ReadinessOptions {
  port: number;
  /** The role the sandbox must answer as; any when undefined. */
  role?: Role;
  deadlineMs: number;
  /** Settles when the sandbox exits: readiness then fails at once instead of waiting for the deadline. */
  exited?: Promise<string>;
}

/**
 * The one health-poll loop (the manager's readiness, routing's health gate): polls GET /health until
 * it answers healthy for the expected role, every 10 ms for the first two seconds (a sandbox is
 * usually up within a few hundred milliseconds; a refused connection costs next to nothing), then
 * every 100 ms, never past the deadline.
 */
export async function waitUntilHealthy(options: ReadinessOptions): Promise<SandboxHealth> {
  const started = Date.now();
  let exitedWith: string | undefined;
  void options.exited?.then((how) => {
    exitedWith = how;
  });
  let lastRole: string | undefined;
  const deadline = started + options.deadlineMs;
  while (Date.now() < deadline) {
    if (exitedWith !== undefined) throw new NotReadyError(`the sandbox exited before it became healthy (${exitedWith})`);
    const health = await probeHealth(options.port, Math.max(1, Math.min(1_000, deadline - Date.now())));
    if (health && (options.role === undefined || health.instance_role === undefined || health.instance_role === options.role)) return health;
    // Only an answer changes it: a later probe cut short by the deadline must not hide the role it answered as.
    if (health) lastRole = health.instance_role;
    await sleep(Math.max(0, Math.min(Date.now() - started < 2_000 ? 10 : 100, deadline - Date.now())));
  }
  if (exitedWith !== undefined) throw new NotReadyError(`the sandbox exited before it became healthy (${exitedWith})`);
  const wrongRole = lastRole === undefined || options.role === undefined ? '' : ` (it answered as role ${JSON.stringify(lastRole)}, expected ${options.role})`;
  throw new NotReadyError(`GET http://127.0.0.1:${options.port}/health did not answer healthy within ${options.deadlineMs} ms${wrongRole}`);
}
