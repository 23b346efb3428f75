/**
 * Reading one JSON object of a target description with errors that name the file and the field
 * (`targets/prod.json: github.repository ...`), so a person knows exactly what to fix. Each
 * section of the description reads its own fields through one of these.
 */
export class TargetDescriptionError extends Error {
  readonly file: string;
  readonly field: string;
  constructor(file: string, field: string, problem: string) {
    super(`${file}: ${field ? `${field} ` : ''}${problem}`);
    this.name = 'TargetDescriptionError';
    this.file = file;
    this.field = field;
  }
}

export type JsonObject = Readonly<Record<string, unknown>>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class DescriptionFields {
  readonly file: string;
  readonly prefix: string;
  private readonly object: JsonObject;

  constructor(file: string, object: JsonObject, prefix = '') {
    this.file = file;
    this.object = object;
    this.prefix = prefix;
  }

  /** The dotted name of `key` in this object, as the error messages and the documentation say it. */
  name(key: string): string {
    return this.prefix ? `${this.prefix}.${key}` : key;
  }

  error(key: string, problem: string): TargetDescriptionError {
    return new TargetDescriptionError(this.file, this.name(key), problem);
  }

  has(key: string): boolean {
    return this.object[key] !== undefined;
  }

  /** Refuses keys this reader does not know (a typo would otherwise silently take a default). */
  onlyKeys(known: readonly string[]): void {
    for (const key of Object.keys(this.object)) {
      if (!known.includes(key)) throw this.error(key, `is not a known field: use one of ${known.join(', ')}.`);
    }
  }

  string(key: string, what: string, fallback?: string): string {
    const value = this.object[key];
    if (value === undefined) {
      if (fallback !== undefined) return fallback;
      throw this.error(key, `is missing: set it to ${what}.`);
    }
    if (typeof value !== 'string' || value.trim() === '') throw this.error(key, `must be a non-empty string: ${what}.`);
    return value.trim();
  }

  optionalString(key: string, what: string): string | undefined {
    return this.has(key) ? this.string(key, what) : undefined;
  }

  matching(key: string, pattern: RegExp, what: string, fallback?: string): string {
    const value = this.string(key, what, fallback);
    if (!pattern.test(value)) throw this.error(key, `is "${value}": it must be ${what}.`);
    return value;
  }

  integer(key: string, min: number, max: number, fallback?: number): number {
    const value = this.object[key];
    if (value === undefined) {
      if (fallback !== undefined) return fallback;
      throw this.error(key, `is missing: set it to a whole number from ${min} to ${max}.`);
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw this.error(key, `is ${JSON.stringify(value)}: use a whole number from ${min} to ${max}${fallback === undefined ? '' : ` (default ${fallback})`}.`);
    }
    return value;
  }

  url(key: string, what: string, protocols: readonly string[] = ['http:', 'https:']): string {
    const raw = this.string(key, what);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw this.error(key, `is "${raw}", which is not a URL: set it to ${what}.`);
    }
    if (!protocols.includes(url.protocol)) throw this.error(key, `is "${raw}": it must be a ${protocols.map((p) => p.slice(0, -1)).join(' or ')} URL.`);
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  }

  strings(key: string, what: string, fallback?: readonly string[]): readonly string[] {
    const value = this.object[key];
    if (value === undefined) {
      if (fallback !== undefined) return fallback;
      throw this.error(key, `is missing: set it to a list of ${what}.`);
    }
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item.trim() === '')) throw this.error(key, `must be a list of ${what}.`);
    return value.map((item: string) => item.trim());
  }

  /** A nested object, read by its own fields reader; undefined when absent. */
  section(key: string): DescriptionFields | undefined {
    const value = this.object[key];
    if (value === undefined) return undefined;
    if (!isJsonObject(value)) throw this.error(key, 'must be an object.');
    return new DescriptionFields(this.file, value, this.name(key));
  }

  raw(key: string): unknown {
    return this.object[key];
  }
}
