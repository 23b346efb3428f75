import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { podman } from '../../podman/podman.ts';
import { repoRoot } from '../../paths.ts';
import { packageVersion } from '../../version.ts';
import { withBuildLock } from './build-lock.ts';
import { digestLabel, gatherImageInputs, writeBuildContext, type ImageInputs } from './build-context.ts';

export { sandboxUser } from './build-context.ts';

export const sandboxImageName = 'localhost/choir-sandbox';
/** The image of this checkout's version; `:latest` points at the same image. */
export const sandboxImage = `${sandboxImageName}:${packageVersion}`;
export const sandboxImageLatest = `${sandboxImageName}:latest`;

export interface SandboxImageOptions {
  /** Version baked into labels and /health; default package.json's. */
  version?: string;
  /** A full reference (name:tag) or just a tag for localhost/choir-sandbox; default the version. */
  tag?: string;
}

export interface BuildSandboxImageOptions extends SandboxImageOptions {
  /** Build every layer afresh (a cold build, for the benchmark). */
  noCache?: boolean;
}

export interface BuiltSandboxImage {
  ref: string;
  /** Every reference the build tagged (the ref, plus :latest for the checkout's own version). */
  tags: string[];
  id: string;
  sizeBytes: number;
  buildMs: number;
}

function refFor(options: SandboxImageOptions): string {
  const tag = options.tag ?? options.version ?? packageVersion;
  return tag.includes(':') || tag.includes('/') ? tag : `${sandboxImageName}:${tag}`;
}

async function gitRevision(): Promise<string> {
  const result = await execa('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, reject: false });
  return !result.failed && /^[0-9a-f]{40}$/.test(String(result.stdout).trim()) ? String(result.stdout).trim() : 'unknown';
}

async function inputsFor(options: SandboxImageOptions): Promise<ImageInputs> {
  return gatherImageInputs({ version: options.version ?? packageVersion, revision: await gitRevision() });
}

/** The digest label of an existing image, or undefined when there is no such image. */
async function existingDigest(ref: string): Promise<string | undefined> {
  try {
    const out = await podman(['image', 'inspect', '--format', `{{index .Labels "${digestLabel}"}}`, ref]);
    return out.trim() || undefined;
  } catch {
    return undefined;
  }
}

async function imageIdOf(ref: string): Promise<string | undefined> {
  return (await podman(['image', 'inspect', '--format', '{{.Id}}', ref]).catch(() => '')).trim() || undefined;
}

/** Removes the image a rebuild displaced, if nothing tags or uses it any more (rmi refuses otherwise). */
async function removeIfDangling(id: string | undefined, current: string): Promise<void> {
  if (!id || id === current) return;
  const names = (await podman(['image', 'inspect', '--format', '{{len .RepoTags}}', id]).catch(() => '1')).trim();
  if (names === '0') await podman(['rmi', id]).catch(() => undefined);
}

async function build(ref: string, options: BuildSandboxImageOptions, inputs: ImageInputs): Promise<BuiltSandboxImage> {
  const started = performance.now();
  const displaced = await imageIdOf(ref);
  const tags = [ref];
  if (options.tag === undefined && (options.version ?? packageVersion) === packageVersion) tags.push(sandboxImageLatest);
  const context = mkdtempSync(path.join(tmpdir(), 'choir-sandbox-image-'));
  try {
    await writeBuildContext(context, inputs);
    const iidFile = path.join(context, 'image-id');
    await podman(['build', ...(options.noCache ? ['--no-cache'] : []), '--file', path.join(context, 'Containerfile'), ...tags.flatMap((t) => ['--tag', t]), '--iidfile', iidFile, context], { timeoutMs: 300_000 });
    const id = readFileSync(iidFile, 'utf8').trim().replace(/^sha256:/, '');
    const sizeBytes = Number((await podman(['image', 'inspect', '--format', '{{.Size}}', id])).trim());
    await removeIfDangling(displaced, id);
    return { ref, tags, id, sizeBytes, buildMs: Math.round(performance.now() - started) };
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/** Builds the sandbox image with podman, offline (FROM scratch, nothing pulled). */
export async function buildSandboxImage(options: BuildSandboxImageOptions = {}): Promise<BuiltSandboxImage> {
  const ref = refFor(options);
  const inputs = await inputsFor(options);
  return withBuildLock(() => build(ref, options, inputs));
}

const ensured = new Map<string, Promise<string>>();

/**
 * Resolves to the image reference, building it first when it is missing or was built from other
 * sources than this checkout's (its digest label differs), so tests never run a stale sandbox.
 */
export function ensureSandboxImage(options: SandboxImageOptions = {}): Promise<string> {
  const ref = refFor(options);
  let pending = ensured.get(ref);
  if (!pending) {
    pending = (async () => {
      const inputs = await inputsFor(options);
      if ((await existingDigest(ref)) === inputs.digest) return ref;
      return withBuildLock(async () => {
        // Another worker may have built it while this one waited for the lock.
        if ((await existingDigest(ref)) !== inputs.digest) await build(ref, options, inputs);
        return ref;
      });
    })();
    pending.catch(() => ensured.delete(ref));
    ensured.set(ref, pending);
  }
  return pending;
}
