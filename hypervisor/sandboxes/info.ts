import type { Role } from '../domain/role.ts';
import type { SandboxSpec, SandboxStatus } from '../domain/sandbox.ts';
import { sandboxDataDir } from './data-dir.ts';
import type { SandboxEntry } from './entry.ts';
import { statusOf, type DesiredState, type SandboxState } from './state.ts';

/** What the manager reports about one sandbox. */
export interface SandboxInfo {
  userId: string;
  role: Role;
  port: number;
  status: SandboxStatus;
  state: SandboxState;
  desired: DesiredState;
  idleSecs: number;
  spec: SandboxSpec;
  containerId: string | null;
  pid: number | null;
  restarts: number;
  lastError: string | null;
  dataDir: string;
}

export function sandboxInfo(entry: SandboxEntry, dataRoot: string): SandboxInfo {
  const { record } = entry;
  return {
    userId: record.userId,
    role: record.role,
    port: record.port,
    status: statusOf(record.state),
    state: record.state,
    desired: record.desired,
    idleSecs: record.state === 'running' ? Math.floor((Date.now() - entry.lastActivity) / 1000) : 0,
    spec: record.spec,
    containerId: record.containerId,
    pid: record.pid,
    restarts: record.restarts,
    lastError: record.lastError,
    dataDir: sandboxDataDir(dataRoot, entry.key),
  };
}
