import path from 'node:path';
import { parseRole, type Role } from '../sandboxes/types.ts';
import { packageVersion } from './version.ts';

/** Everything the sandbox reads from its environment, parsed and checked in one place. */
export interface SandboxSettings {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string;
  role: Role;
  userId: string | undefined;
  sandboxId: string | undefined;
  version: string;
  conductorStepMs: number;
}

export class InvalidSettingError extends Error {
  readonly variable: string;
  constructor(variable: string, value: string, expected: string) {
    super(`${variable}="${value}" is invalid: ${expected}`);
    this.name = 'InvalidSettingError';
    this.variable = variable;
  }
}

function integerSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidSettingError(name, raw, `use a whole number from ${min} to ${max} (default ${fallback})`);
  }
  return value;
}

function databaseSetting(env: NodeJS.ProcessEnv, dataDir: string): string {
  const raw = env.DATABASE_URL;
  if (raw === undefined || raw === '') return `sqlite:${path.join(dataDir, 'sandbox.db')}`;
  if (!/^sqlite:.+/.test(raw)) {
    throw new InvalidSettingError('DATABASE_URL', raw, 'use sqlite:PATH, for example sqlite:/data/sandbox.db');
  }
  return raw;
}

function roleSetting(env: NodeJS.ProcessEnv): Role {
  const raw = env.CHOIR_SANDBOX_ROLE;
  if (raw === undefined || raw === '') return 'live';
  try {
    return parseRole(raw);
  } catch {
    throw new InvalidSettingError('CHOIR_SANDBOX_ROLE', raw, "role must be 'live' or 'dev'");
  }
}

/** Parses the sandbox's environment; throws InvalidSettingError naming the first bad variable. */
export function parseSettings(env: NodeJS.ProcessEnv): SandboxSettings {
  const dataDir = path.resolve(env.CHOIROS_DATA_DIR || path.join('data', 'sandbox'));
  return {
    host: env.SANDBOX_HOST || '127.0.0.1',
    port: integerSetting(env, 'PORT', 8080, 0, 65_535),
    dataDir,
    databaseUrl: databaseSetting(env, dataDir),
    role: roleSetting(env),
    userId: env.CHOIR_SANDBOX_USER_ID || undefined,
    sandboxId: env.CHOIR_SANDBOX_ID || undefined,
    version: env.SANDBOX_VERSION || packageVersion,
    conductorStepMs: integerSetting(env, 'SANDBOX_CONDUCTOR_STEP_MS', 150, 0, 60_000),
  };
}
