import { hostname } from 'node:os';
import type { SandboxSettings } from './settings.ts';

/** "degraded" only when a release asks for it (SANDBOX_HEALTHY_ANSWERS): what a health gate must refuse. */
export type HealthStatus = 'healthy' | 'degraded';

export interface HealthBody {
  status: HealthStatus;
  service: 'choiros-sandbox';
  version: string;
  instance_role: SandboxSettings['role'];
  hostname: string;
}

/** The contract's exact /health shape; deploy checks look for "status":"healthy". */
export function healthBody(settings: SandboxSettings, status: HealthStatus = 'healthy'): HealthBody {
  return { status, service: 'choiros-sandbox', version: settings.version, instance_role: settings.role, hostname: hostname() };
}

/**
 * The /health answers of one sandbox process, in order. Always healthy, unless the release set
 * SANDBOX_HEALTHY_ANSWERS=N: then the first N answers say healthy and every later one says
 * "degraded" (still HTTP 200). That is a sandbox which passed its start-up readiness check and runs,
 * but no longer reports itself fit to serve, the case a gate must prove the health gate refuses.
 * Counted, not timed, so it does not depend on how fast the machine is.
 */
export function healthAnswers(settings: SandboxSettings): () => HealthBody {
  let answered = 0;
  return () => {
    answered += 1;
    const degraded = settings.healthyAnswers !== undefined && answered > settings.healthyAnswers;
    return healthBody(settings, degraded ? 'degraded' : 'healthy');
  };
}
