import { hostname } from 'node:os';
import type { SandboxSettings } from './settings.ts';

export interface HealthBody {
  status: 'healthy';
  service: 'choiros-sandbox';
  version: string;
  instance_role: SandboxSettings['role'];
  hostname: string;
}

/** The contract's exact /health shape; deploy checks look for "status":"healthy". */
export function healthBody(settings: SandboxSettings): HealthBody {
  return { status: 'healthy', service: 'choiros-sandbox', version: settings.version, instance_role: settings.role, hostname: hostname() };
}
