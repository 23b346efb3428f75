import path from 'node:path';
import { ConfigError, readInteger } from '../env-values.ts';
import { parseRole, type Role } from '../domain/role.ts';
import { packageVersion } from '../version.ts';

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
  /** SANDBOX_HEALTHY_ANSWERS: /health says healthy this many times, then "degraded" (health.ts); undefined: always healthy. */
  healthyAnswers: number | undefined;
  /** SANDBOX_RUNS_OK_ANSWERS: GET /conductor/runs answers its list this many times, then 500 with a JSON error; undefined: always. */
  runsOkAnswers: number | undefined;
  /** SANDBOX_CRASH_AFTER_HEALTHY_MS: the process exits (a crash) this long after its first /health answer; undefined: never. */
  crashAfterHealthyMs: number | undefined;
  /** SANDBOX_STOP_LISTENING_AFTER_HEALTHY_MS: the sandbox stops accepting connections, its process alive, this long after its first /health answer; undefined: never. */
  stopListeningAfterHealthyMs: number | undefined;
}

function databaseSetting(env: NodeJS.ProcessEnv, dataDir: string): string {
  const raw = env.DATABASE_URL;
  if (raw === undefined || raw === '') return `sqlite:${path.join(dataDir, 'sandbox.db')}`;
  if (!/^sqlite:.+/.test(raw)) {
    throw new ConfigError('DATABASE_URL', raw, 'use sqlite:PATH, for example sqlite:/data/sandbox.db');
  }
  return raw;
}

function roleSetting(env: NodeJS.ProcessEnv): Role {
  const raw = env.CHOIR_SANDBOX_ROLE;
  if (raw === undefined || raw === '') return 'live';
  try {
    return parseRole(raw);
  } catch {
    throw new ConfigError('CHOIR_SANDBOX_ROLE', raw, "role must be 'live' or 'dev'");
  }
}

/** Parses the sandbox's environment; throws ConfigError naming the first bad variable. */
export function parseSettings(env: NodeJS.ProcessEnv): SandboxSettings {
  const dataDir = path.resolve(env.CHOIROS_DATA_DIR || path.join('data', 'sandbox'));
  return {
    host: env.SANDBOX_HOST || '127.0.0.1',
    port: readInteger(env, 'PORT', 8080, 0, 65_535),
    dataDir,
    databaseUrl: databaseSetting(env, dataDir),
    role: roleSetting(env),
    userId: env.CHOIR_SANDBOX_USER_ID || undefined,
    sandboxId: env.CHOIR_SANDBOX_ID || undefined,
    version: env.SANDBOX_VERSION || packageVersion,
    conductorStepMs: readInteger(env, 'SANDBOX_CONDUCTOR_STEP_MS', 150, 0, 60_000),
    healthyAnswers: env.SANDBOX_HEALTHY_ANSWERS ? readInteger(env, 'SANDBOX_HEALTHY_ANSWERS', 0, 0, 1_000_000) : undefined,
    runsOkAnswers: env.SANDBOX_RUNS_OK_ANSWERS ? readInteger(env, 'SANDBOX_RUNS_OK_ANSWERS', 0, 0, 1_000_000) : undefined,
    crashAfterHealthyMs: env.SANDBOX_CRASH_AFTER_HEALTHY_MS ? readInteger(env, 'SANDBOX_CRASH_AFTER_HEALTHY_MS', 0, 0, 60_000) : undefined,
    stopListeningAfterHealthyMs: env.SANDBOX_STOP_LISTENING_AFTER_HEALTHY_MS ? readInteger(env, 'SANDBOX_STOP_LISTENING_AFTER_HEALTHY_MS', 0, 0, 60_000) : undefined,
  };
}
