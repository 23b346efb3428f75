import { migrate, type Database } from '../store/database.ts';
import type { DesiredState, SandboxState } from './state.ts';
import { parseRole, type Role } from '../domain/role.ts';
import type { RuntimeKind } from '../domain/runtime-kind.ts';
import type { SandboxKey, SandboxSpec } from '../domain/sandbox.ts';

/** The durable record of one sandbox: what should run, where, from what, and what last ran. */
export interface SandboxRecord {
  userId: string;
  role: Role;
  port: number;
  desired: DesiredState;
  state: SandboxState;
  spec: SandboxSpec;
  containerId: string | null;
  pid: number | null;
  /** The process's start time (from /proc), so a reused pid is never mistaken for the sandbox. */
  pidStart: string | null;
  restarts: number;
  lastError: string | null;
  updatedAt: string;
}

const migrations = [
  `CREATE TABLE sandboxes (
    user_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('live', 'dev')),
    port INTEGER NOT NULL UNIQUE CHECK (port BETWEEN 1 AND 65535),
    desired TEXT NOT NULL CHECK (desired IN ('running', 'stopped')),
    state TEXT NOT NULL,
    runtime TEXT NOT NULL CHECK (runtime IN ('process', 'podman')),
    image TEXT NOT NULL,
    config TEXT NOT NULL DEFAULT '{}',
    container_id TEXT,
    pid INTEGER,
    pid_start TEXT,
    restarts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
  )`,
];

type Row = Record<string, string | number | null | bigint | Uint8Array>;

function toRecord(row: Row): SandboxRecord {
  const config = JSON.parse(String(row.config)) as Record<string, string>;
  return {
    userId: String(row.user_id),
    role: parseRole(String(row.role)),
    port: Number(row.port),
    desired: row.desired as DesiredState,
    state: row.state as SandboxState,
    spec: { runtime: row.runtime as RuntimeKind, image: String(row.image), ...(Object.keys(config).length ? { config } : {}) },
    containerId: row.container_id === null ? null : String(row.container_id),
    pid: row.pid === null ? null : Number(row.pid),
    pidStart: row.pid_start === null ? null : String(row.pid_start),
    restarts: Number(row.restarts),
    lastError: row.last_error === null ? null : String(row.last_error),
    updatedAt: String(row.updated_at),
  };
}

export type SandboxPatch = Partial<Omit<SandboxRecord, 'userId' | 'role' | 'updatedAt'>>;

export class SandboxStore {
  private readonly db: Database;

  constructor(db: Database) {
    this.db = db;
    migrate(db, 'sandboxes', migrations);
  }

  all(): SandboxRecord[] {
    return this.db.prepare('SELECT * FROM sandboxes ORDER BY user_id, role').all().map((row) => toRecord(row as Row));
  }

  get(key: SandboxKey): SandboxRecord | undefined {
    const row = this.db.prepare('SELECT * FROM sandboxes WHERE user_id = ? AND role = ?').get(key.userId, key.role);
    return row ? toRecord(row as Row) : undefined;
  }

  /** Creates the record; the UNIQUE port constraint makes a clash an error rather than two sandboxes on one port. */
  insert(record: Omit<SandboxRecord, 'updatedAt'>): SandboxRecord {
    const now = new Date().toISOString();
    this.db
      .prepare(
        `INSERT INTO sandboxes (user_id, role, port, desired, state, runtime, image, config, container_id, pid, pid_start, restarts, last_error, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        record.userId,
        record.role,
        record.port,
        record.desired,
        record.state,
        record.spec.runtime,
        record.spec.image,
        JSON.stringify(record.spec.config ?? {}),
        record.containerId,
        record.pid,
        record.pidStart,
        record.restarts,
        record.lastError,
        now,
        now,
      );
    return { ...record, updatedAt: now };
  }

  update(key: SandboxKey, patch: SandboxPatch): void {
    const columns: string[] = [];
    const values: (string | number | null)[] = [];
    const set = (column: string, value: string | number | null): void => {
      columns.push(`${column} = ?`);
      values.push(value);
    };
    if (patch.port !== undefined) set('port', patch.port);
    if (patch.desired !== undefined) set('desired', patch.desired);
    if (patch.state !== undefined) set('state', patch.state);
    if (patch.spec !== undefined) {
      set('runtime', patch.spec.runtime);
      set('image', patch.spec.image);
      set('config', JSON.stringify(patch.spec.config ?? {}));
    }
    if (patch.containerId !== undefined) set('container_id', patch.containerId);
    if (patch.pid !== undefined) set('pid', patch.pid);
    if (patch.pidStart !== undefined) set('pid_start', patch.pidStart);
    if (patch.restarts !== undefined) set('restarts', patch.restarts);
    if (patch.lastError !== undefined) set('last_error', patch.lastError);
    set('updated_at', new Date().toISOString());
    this.db.prepare(`UPDATE sandboxes SET ${columns.join(', ')} WHERE user_id = ? AND role = ?`).run(...values, key.userId, key.role);
  }

  /** Forgets the sandbox (its user was deleted); true when there was a record. */
  delete(key: SandboxKey): boolean {
    return Number(this.db.prepare('DELETE FROM sandboxes WHERE user_id = ? AND role = ?').run(key.userId, key.role).changes) > 0;
  }

  reservedPorts(): Set<number> {
    return new Set(this.db.prepare('SELECT port FROM sandboxes').all().map((row) => Number(row.port)));
  }
}
