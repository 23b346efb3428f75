/** One entry of package-lock.json's `packages` (lockfileVersion 2 or 3), as far as the offline set reads it. */
export interface LockEntry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  os?: string[];
  cpu?: string[];
  libc?: string[];
}

/** What npm ci needs in the lock: packages it installs, and optional ones it skips on this platform. */
export interface LockClosure {
  install: string[];
  /** Optional packages for another os/cpu/libc (esbuild's per-platform binaries): in the lock, never fetched. */
  otherPlatforms: string[];
}

export interface Platform {
  os: string;
  cpu: string;
  libc: string;
}

export const thisPlatform: Platform = { os: process.platform, cpu: process.arch, libc: process.platform === 'linux' ? 'glibc' : '' };

/** npm's rule for `os`/`cpu`/`libc` lists: no positive entry or one naming `value`, and no `!value`. */
function allows(list: string[] | undefined, value: string): boolean {
  if (!list?.length) return true;
  if (list.includes(`!${value}`)) return false;
  const positive = list.filter((v) => !v.startsWith('!'));
  return positive.length === 0 || positive.includes(value) || positive.includes('any');
}

function runsOn(entry: LockEntry, platform: Platform): boolean {
  return allows(entry.os, platform.os) && allows(entry.cpu, platform.cpu) && (platform.os !== 'linux' || allows(entry.libc, platform.libc));
}

export interface PackageLock {
  lockfileVersion?: number;
  packages?: Record<string, LockEntry>;
}

export class LockFileError extends Error {
  constructor(detail: string) {
    super(`package-lock.json: ${detail}`);
    this.name = 'LockFileError';
  }
}

/** The lock's `packages`, refusing a lock npm 6 wrote (no `packages` map to install from). */
export function lockPackages(lock: PackageLock): Record<string, LockEntry> {
  if (!lock.packages || (lock.lockfileVersion ?? 1) < 2) {
    throw new LockFileError(`lockfileVersion ${String(lock.lockfileVersion)} has no "packages" map; regenerate it with npm 7 or later (npm install --package-lock-only).`);
  }
  return lock.packages;
}

/** The installed name of the package at `location` (an alias keeps its own folder name, and names the real package in `name`). */
export function packageName(location: string, entry: LockEntry): string {
  return entry.name ?? location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** Where Node (and npm's tree) finds `name` from the package at `from`: its own node_modules, then each enclosing one. */
function resolveFrom(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const parent = base.lastIndexOf('/node_modules/');
    base = parent === -1 ? '' : base.slice(0, parent);
  }
}

/**
 * The lock locations `npm ci` needs to install `locations` from a lock holding nothing else: them
 * and every dependency they reach, where npm placed each. npm ci refuses offline to complete a tree
 * whose lock misses an edge (an optional one included: "Missing: @esbuild/aix-ppc64 from lock
 * file"), so the set is closed over required, optional and non-optional peer dependencies. Optional
 * packages built for another platform stay in the lock but npm skips them, so they are not fetched.
 */
export function lockClosure(lock: PackageLock, locations: readonly string[], platform: Platform = thisPlatform): LockClosure {
  const packages = lockPackages(lock);
  const install = new Set<string>();
  const otherPlatforms = new Set<string>();
  const pending: { location: string; optional: boolean }[] = locations.map((location) => ({ location, optional: false }));
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { location, optional } = next;
    if (install.has(location) || otherPlatforms.has(location)) continue;
    const entry = packages[location];
    if (!entry) throw new LockFileError(`it has no entry for ${location}, which is installed here: run npm install so the lock matches node_modules.`);
    if (entry.link) throw new LockFileError(`${location} is a link (a workspace or file: dependency); the offline package set installs registry packages only.`);
    if (optional && !runsOn(entry, platform)) {
      otherPlatforms.add(location);
      continue;
    }
    install.add(location);
    const optionalPeers = new Set(Object.entries(entry.peerDependenciesMeta ?? {}).filter(([, meta]) => meta.optional).map(([name]) => name));
    const required = [...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.peerDependencies ?? {}).filter((name) => !optionalPeers.has(name))];
    for (const name of required) {
      const found = resolveFrom(packages, location, name);
      if (!found) throw new LockFileError(`${location} depends on ${name}, which the lock does not hold: run npm install to repair it.`);
      pending.push({ location: found, optional: false });
    }
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      // An optional dependency npm could not install when the lock was written is simply absent.
      const found = resolveFrom(packages, location, name);
      if (found) pending.push({ location: found, optional: true });
    }
  }
  return { install: [...install].sort(), otherPlatforms: [...otherPlatforms].filter((location) => !install.has(location)).sort() };
}
