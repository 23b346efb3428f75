import { userInfo } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AdminCallError } from '../admin-client/admin-call-error.ts';
import { AdminClient } from '../admin-client/admin-client.ts';
import { adminEndpointFromEnv } from '../admin-client/admin-endpoint.ts';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `--flag value` arguments; unknown flags and stray words are usage errors naming them. */
export function parseFlags<T extends Options>(args: readonly string[], options: T, usage: string) {
  try {
    return parseArgs({ args: [...args], options: { ...options, json: { type: 'boolean' } }, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nusage: ${usage}`);
  }
}

/** Who runs the CLI, recorded in the switch history as admin:cli:<login>. */
export const cliActor = (): string => `cli:${userInfo().username}`;

/**
 * Runs one admin call for a CLI command: prints a summary (or the JSON with --json) and maps the
 * outcome to an exit code: 0 done, 1 refused or failed (the hypervisor's reason is printed), 2 usage.
 * `failed` marks an answer that is a failure but still worth printing whole.
 */
export async function runAdminCommand(work: (admin: AdminClient) => Promise<{ summary: string; json: unknown; failed?: boolean }>, json: boolean): Promise<number> {
  try {
    const result = await work(new AdminClient(adminEndpointFromEnv(), { actor: cliActor() }));
    // A partial failure that still answered (rollback --all's 422): its summary is the reason on
    // stderr, and with --json the answer still goes to stdout, so a script reads who FAILED.
    if (result.failed) {
      if (json) console.log(JSON.stringify(result.json, null, 2));
      console.error(`hypervisor: ${result.summary}`);
      return 1;
    }
    console.log(json ? JSON.stringify(result.json, null, 2) : result.summary);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(error.message);
      return 2;
    }
    if (error instanceof AdminCallError) {
      console.error(`hypervisor: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

type Flags<T extends Options> = ReturnType<typeof parseFlags<T>>;

/**
 * A command's flags, or exit code 2 after printing what was wrong with them and the usage line.
 * `required` flags are checked here (and typed as present); `problem` names any other conflict.
 */
export function commandFlags<T extends Options, R extends keyof T & string = never>(
  args: readonly string[],
  options: T,
  usage: string,
  required: readonly R[] = [],
  problem: (flags: Flags<T>) => string | undefined = () => undefined,
): (Flags<T> & Record<R, string>) | number {
  try {
    const flags = parseFlags(args, options, usage);
    const values = flags as Record<string, unknown>;
    const missing = required.filter((name) => values[name] === undefined).map((name) => `--${name}`);
    // `--user ""` (an unset shell variable) would otherwise reach the admin API as an empty path segment.
    const empty = required.filter((name) => typeof values[name] === 'string' && !(values[name] as string).trim()).map((name) => `--${name}`);
    const wrong = missing.length
      ? `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required`
      : empty.length
        ? `${empty.join(' and ')} ${empty.length > 1 ? 'are' : 'is'} empty: give a value`
        : problem(flags);
    if (wrong) throw new UsageError(`${wrong}\nusage: ${usage}`);
    return flags as Flags<T> & Record<R, string>;
  } catch (error) {
    return usageFailure(error);
  }
}

/** Exit code 2 with the usage text for argument errors found before any call. */
export function usageFailure(error: unknown): number {
  if (error instanceof UsageError) {
    console.error(error.message);
    return 2;
  }
  throw error;
}
