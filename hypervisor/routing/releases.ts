import type { Database } from '../store/database.ts';
import { runtimeKinds, type RuntimeKind } from '../domain/runtime-kind.ts';
import type { SandboxSpec } from '../domain/sandbox.ts';
import { assertSandboxConfig, SandboxConfigError } from '../sandboxes/env.ts';
import { RoutingError } from './errors.ts';

/** Where a release is in its life; known-good is separate (known_good_at), since it outlives serving. */
export const releaseStatuses = ['candidate', 'staged', 'serving', 'refused', 'pruned'] as const;
export type ReleaseStatus = (typeof releaseStatuses)[number];

export type ReleaseConfig = Readonly<Record<string, string>>;

/** A sandbox image pinned by id, the config it runs with and the runtime that runs it. */
export interface Release {
  id: number;
  runtime: RuntimeKind;
  /** The podman image id the reference resolved to when the release was made; empty for the process runtime. */
  image: string;
  /** The reference the release was made from (for example localhost/choir-sandbox:0.1.0), or "process". */
  imageRef: string;
  config: ReleaseConfig;
  /** The git revision from the image's org.opencontainers.image.revision label (the checkout's for process releases). */
  revision: string | null;
  note: string | null;
  createdAt: string;
  knownGoodAt: string | null;
  status: ReleaseStatus;
}

export interface NewRelease {
  runtime: RuntimeKind;
  image: string;
  imageRef: string;
  config: ReleaseConfig;
  revision: string | null;
  note?: string | null;
}

/** What the sandbox manager runs for a release. The pinned id, so a re-tagged reference cannot change a release. */
export function releaseSpec(release: Release): SandboxSpec {
  return { runtime: release.runtime, image: release.image || release.imageRef, config: release.config };
}

const sortedConfig = (config: Readonly<Record<string, string>> | undefined): string => JSON.stringify(Object.entries(config ?? {}).sort(([a], [b]) => a.localeCompare(b)));

/** Whether a sandbox's spec is exactly the release's (an admin may have started the slot on something else since). */
export function runsRelease(spec: SandboxSpec, release: Release): boolean {
  const wanted = releaseSpec(release);
  return spec.runtime === wanted.runtime && (spec.runtime === 'process' || spec.image === wanted.image) && sortedConfig(spec.config) === sortedConfig(wanted.config);
}

const configKey = /^[A-Z][A-Z0-9_]*$/;

/** Checks a release config from an API body: an object of UPPER_CASE names to string values. */
export function parseReleaseConfig(value: unknown): ReleaseConfig {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new RoutingError('invalid_input', `release config must be an object of setting names to strings, for example {"SANDBOX_CONDUCTOR_STEP_MS":"50"}; got ${JSON.stringify(value)}`);
  }
  const config: Record<string, string> = {};
  for (const [name, setting] of Object.entries(value)) {
    if (!configKey.test(name)) throw new RoutingError('invalid_input', `release config name "${name}" is not an environment variable name: use UPPER_CASE letters, digits and _`);
    if (typeof setting !== 'string') throw new RoutingError('invalid_input', `release config "${name}" must be a string; got ${JSON.stringify(setting)}`);
    config[name] = setting;
  }
  try {
    assertSandboxConfig(config);
  } catch (error) {
    if (error instanceof SandboxConfigError) throw new RoutingError('invalid_input', error.message);
    throw error;
  }
  return config;
}

export function parseRuntime(value: unknown): RuntimeKind {
  if (typeof value === 'string' && (runtimeKinds as readonly string[]).includes(value)) return value as RuntimeKind;
  throw new RoutingError('invalid_input', `release runtime must be one of ${runtimeKinds.join(', ')}; got ${JSON.stringify(value)}`);
}

interface ReleaseRow {
  id: number;
  runtime: string;
  image: string;
  image_ref: string;
  config: string;
  revision: string | null;
  note: string | null;
  created_at: string;
  known_good_at: string | null;
  status: string;
}

const toRelease = (row: Record<string, unknown>): Release => {
  const r = row as unknown as ReleaseRow;
  return {
    id: Number(r.id),
    runtime: r.runtime as RuntimeKind,
    image: r.image,
    imageRef: r.image_ref,
    config: JSON.parse(r.config) as ReleaseConfig,
    revision: r.revision,
    note: r.note,
    createdAt: r.created_at,
    knownGoodAt: r.known_good_at,
    status: r.status as ReleaseStatus,
  };
};

/** The release catalogue in SQLite. */
export class Releases {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  create(input: NewRelease): Release {
    const at = new Date().toISOString();
    const row = this.#db
      .prepare('INSERT INTO releases (runtime, image, image_ref, config, revision, note, created_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *')
      .get(input.runtime, input.image, input.imageRef, JSON.stringify(input.config), input.revision, input.note ?? null, at, 'candidate');
    if (!row) throw new Error('inserting a release returned no row');
    return toRelease(row);
  }

  get(id: number): Release | undefined {
    const row = this.#db.prepare('SELECT * FROM releases WHERE id = ?').get(id);
    return row ? toRelease(row) : undefined;
  }

  require(id: number): Release {
    const release = this.get(id);
    if (!release) throw new RoutingError('release_not_found', `release ${id} does not exist: list releases with GET /admin/releases, or create one with POST /admin/releases`);
    return release;
  }

  /** Newest first. */
  list(): Release[] {
    return this.#db.prepare('SELECT * FROM releases ORDER BY id DESC').all().map(toRelease);
  }

  setStatus(id: number, status: ReleaseStatus): void {
    this.#db.prepare('UPDATE releases SET status = ? WHERE id = ?').run(status, id);
  }

  /** Marks a release known-good once (the first time it served healthily is the time that counts). */
  markKnownGood(id: number): Release {
    this.require(id);
    this.#db.prepare('UPDATE releases SET known_good_at = coalesce(known_good_at, ?) WHERE id = ?').run(new Date().toISOString(), id);
    return this.require(id);
  }

  /** Known-good releases, most recently proven first. */
  knownGood(): Release[] {
    return this.#db
      .prepare("SELECT * FROM releases WHERE known_good_at IS NOT NULL AND status <> 'pruned' ORDER BY known_good_at DESC, id DESC")
      .all()
      .map(toRelease);
  }

  /**
   * The known-good release to roll back to from `current`: the newest known-good release older than
   * it (or the newest known-good one at all when the current slot runs no recorded release).
   */
  previousKnownGood(current: Release | undefined): Release | undefined {
    const older = this.knownGood().filter((release) => !current || release.id < current.id);
    return older.sort((a, b) => b.id - a.id)[0];
  }
}
