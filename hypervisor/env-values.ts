/**
 * Reading settings from the environment, shared by the hypervisor's config and the sandbox's
 * settings: an unset or blank variable takes its default; a bad one is a ConfigError naming the
 * variable, the value and what is accepted.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, value: string, accepted: string) {
    super(`${variable}="${value}" is invalid: ${accepted}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** The value of `name`, or undefined when unset or empty. */
export function readString(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

export function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, raw, `use a whole number from ${min} to ${max} (default ${fallback})`);
  }
  return value;
}

export function readChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  if ((choices as readonly string[]).includes(raw)) return raw as T;
  throw new ConfigError(name, raw, `use one of ${choices.join(', ')} (default ${fallback})`);
}
