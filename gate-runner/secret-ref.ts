import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DescriptionFields } from './description-fields.ts';

/**
 * Where a target's secret comes from. A description never holds a secret itself: it names an
 * environment variable (`{"env": "GATE_ADMIN_TOKEN"}`) or a file (`{"file": "~/.config/choiros/admin-token"}`,
 * relative paths from the description's folder). The secret is read only when a check needs it,
 * so a run that never uses it does not need it set.
 */
export type SecretRef = { readonly env: string; readonly field: string; readonly file?: undefined; readonly descriptionFile: string } | { readonly file: string; readonly field: string; readonly env?: undefined; readonly descriptionFile: string };

export class MissingSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingSecretError';
  }
}

export function readSecretRef(fields: DescriptionFields, key: string, fallbackEnv?: string): SecretRef {
  const field = fields.name(key);
  if (!fields.has(key)) {
    if (fallbackEnv) return { env: fallbackEnv, field, descriptionFile: fields.file };
    throw fields.error(key, 'is missing: name where the secret comes from, {"env": "VARIABLE"} or {"file": "PATH"} (never the secret itself).');
  }
  const raw = fields.raw(key);
  if (typeof raw === 'string') throw fields.error(key, 'is a string: a description never holds a secret. Use {"env": "VARIABLE"} or {"file": "PATH"}.');
  const ref = fields.section(key);
  if (!ref) throw fields.error(key, 'must be {"env": "VARIABLE"} or {"file": "PATH"}.');
  ref.onlyKeys(['env', 'file']);
  if (ref.has('env') === ref.has('file')) throw fields.error(key, 'must name exactly one of "env" or "file".');
  if (ref.has('env')) return { env: ref.matching('env', /^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'), field, descriptionFile: fields.file };
  const file = ref.string('file', 'the path of a file holding the secret');
  const home = process.env.HOME ?? '';
  const expanded = file.startsWith('~/') ? path.join(home, file.slice(2)) : file;
  return { file: path.resolve(path.dirname(fields.file), expanded), field, descriptionFile: fields.file };
}

/** The secret's value, trimmed; a clear error naming the field, the variable or file, and the fix. */
export function resolveSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): string {
  if (ref.env !== undefined) {
    const value = env[ref.env]?.trim();
    if (!value) throw new MissingSecretError(`${ref.descriptionFile}: ${ref.field} comes from the environment variable ${ref.env}, which is not set: export it before the run.`);
    return value;
  }
  let value: string;
  try {
    value = readFileSync(ref.file, 'utf8').trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new MissingSecretError(`${ref.descriptionFile}: ${ref.field} comes from the file ${ref.file}, which cannot be read (${code}): create it (mode 0600) or point the field elsewhere.`);
  }
  if (!value) throw new MissingSecretError(`${ref.descriptionFile}: ${ref.field} comes from the file ${ref.file}, which is empty.`);
  return value;
}

/** How a secret is shown in evidence and logs: where it comes from, never what it is. */
export function describeSecretRef(ref: SecretRef): string {
  return ref.env !== undefined ? `env:${ref.env}` : `file:${ref.file}`;
}
