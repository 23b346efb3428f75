import { request } from 'undici';
import { NotReadyError, waitUntilHealthy, type SandboxHealth } from '../sandboxes/health-probe.ts';
import { RoutingError } from './errors.ts';

export interface HealthGateOptions {
  /** How long the target has to answer healthy, from the call. */
  deadlineMs: number;
  /** Also require a smoke request (GET /conductor/runs) to succeed: what "served healthily" means. */
  smoke?: boolean;
}

export interface HealthReport {
  version: string;
  instanceRole: string;
  elapsedMs: number;
  smoke: boolean;
}

/** Checks a sandbox on a loopback port; throws RoutingError('health_check_failed') saying why. */
export type HealthGate = (port: number, options: HealthGateOptions) => Promise<HealthReport>;

/**
 * Polls GET /health until it answers `"status":"healthy"` (the contract's deploy check), then, when
 * asked, one smoke request. A sandbox that never gets there is refused.
 */
export const httpHealthGate: HealthGate = async (port, options) => {
  const started = performance.now();
  let health: SandboxHealth;
  try {
    health = await waitUntilHealthy({ port, deadlineMs: options.deadlineMs });
  } catch (error) {
    if (!(error instanceof NotReadyError)) throw error;
    throw new RoutingError('health_check_failed', `GET http://127.0.0.1:${port}/health did not answer "status":"healthy" within ${options.deadlineMs} ms`);
  }
  const deadline = started + options.deadlineMs;
  if (options.smoke) await smoke(port, Math.ceil(Math.max(1, Math.min(deadline - performance.now(), 5_000))));
  return { version: health.version ?? '', instanceRole: health.instance_role ?? '', elapsedMs: performance.now() - started, smoke: options.smoke ?? false };
};

/** GET /conductor/runs must answer 200 with JSON: the sandbox serves its API, not just its health route. */
async function smoke(port: number, timeoutMs: number): Promise<void> {
  const url = `http://127.0.0.1:${port}/conductor/runs?limit=1`;
  let status: number;
  let text: string;
  try {
    const res = await request(url, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
    status = res.statusCode;
    text = await res.body.text();
  } catch (error) {
    throw new RoutingError('health_check_failed', `smoke request GET ${url} failed: ${(error as Error).message}`);
  }
  let json = true;
  try {
    JSON.parse(text);
  } catch {
    json = false;
  }
  if (status !== 200 || !json) throw new RoutingError('health_check_failed', `smoke request GET ${url} answered ${status} ${text.slice(0, 200)}`);
}
