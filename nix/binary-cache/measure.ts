import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { buildFlakeOutput, flakeOutputs, type BuildOptions, type FlakeBuild, type FlakeOutput, type PackageSetChoice } from '../build.ts';
import { runNix } from '../nix-cli.ts';
import { CacheSignatureRefusedError, CacheUnreachableError } from './errors.ts';
import { startBinaryCache, type BinaryCache, type CacheRequest } from './server.ts';
import { generateSigningKey, type SigningKey } from './signing-key.ts';
import { copyToMachineStore, removeStore, runtimeClosure } from './store-paths.ts';
import { countCacheLog, countTranscript, narinfoName, type CacheLogCounts, type NixTranscriptCounts } from './transcript.ts';

export interface BuildFigures {
  durationMs: number;
  /** The nix command that built it: what the figure is a figure of (a baseline asks no cache). */
  command: string[];
  storePath: string;
  /** The separate store the build ran in. */
  store?: string;
  /** Nix's own transcript of the build (stderr), as CI writes it to build-logs/<output>.log. */
  log: string;
  transcript: NixTranscriptCounts;
  cacheLog: CacheLogCounts;
}

export interface OutputFigures {
  output: FlakeOutput;
  cold: BuildFigures;
  warm: BuildFigures;
}

export interface CacheMeasurement {
  cacheUrl: string;
  publicKey: string;
  packageSet: PackageSetChoice;
  /** In dependency order; each build starts where the previous one left the store. */
  outputs: OutputFigures[];
  coldTotalMs: number;
  warmTotalMs: number;
  pushMs: number;
  pushedPaths: string[];
  /** The separate stores the cold and warm builds ran in, each empty at first (removed afterwards). */
  stores: { cold: string; warm: string };
  /** Every nix command and what it printed, in order: the build transcript. */
  transcript: string;
  requests: CacheRequest[];
}

export interface MeasureOptions {
  workDir: string;
  outputs?: readonly FlakeOutput[];
  /** Runs after the push, before the warm builds (tests: tamper with a narinfo). */
  afterPush?: (cache: BinaryCache, key: SigningKey) => void | Promise<void>;
  /** The key the warm builds trust (default: the cache's own). */
  trustedPublicKey?: string;
  /** The substituter the warm builds use (default: the cache's URL). */
  warmCacheUrl?: string;
  buildOptions?: BuildOptions;
}

/** GET /nix-cache-info, as Nix does first: a clear error when nothing answers. */
export async function checkCacheReachable(url: string): Promise<void> {
  try {
    const response = await request(`${url}/nix-cache-info`, { headersTimeout: 5_000, bodyTimeout: 5_000 });
    const text = await response.body.text();
    if (response.statusCode !== 200 || !text.includes('StoreDir:')) throw new Error(`GET /nix-cache-info answered ${response.statusCode} without StoreDir`);
  } catch (error) {
    const cause = error as Error & { code?: string; cause?: { code?: string } };
    throw new CacheUnreachableError(url, cause.cause?.code ?? cause.code ?? cause.message);
  }
}

function figures(build: FlakeBuild, cacheUrl: string | undefined, requests: CacheRequest[]): BuildFigures {
  return { durationMs: build.durationMs, command: build.command, storePath: build.storePath, ...(build.store ? { store: build.store } : {}), log: build.log, transcript: countTranscript(build.log, cacheUrl), cacheLog: countCacheLog(requests) };
}

function section(title: string, command: readonly string[], log: string): string {
  return `$ ${command.join(' ')}\n# ${title}\n${log.trim()}\n`;
}

/**
 * The Phase 2 cache experiment on this machine: build the outputs cold (no substituter) in an
 * empty store of their own, push their closures to a signed HTTP binary cache on 127.0.0.1, build
 * them warm from the cache alone in a second empty store, then copy the warm results into this
 * machine's store so they can run. This machine's /nix store only ever gains paths. Hits and
 * misses come from Nix's transcript and the cache's request log; durations from the builds.
 */
export async function measureCache(options: MeasureOptions): Promise<CacheMeasurement> {
  const outputs = options.outputs ?? flakeOutputs;
  const stores = { cold: path.join(options.workDir, 'cold-store'), warm: path.join(options.workDir, 'warm-store') };
  for (const store of Object.values(stores)) if (existsSync(store)) throw new Error(`${store} already exists: the cache experiment builds in an empty store of its own; give measureCache a new workDir.`);
  mkdirSync(options.workDir, { recursive: true });
  const key = await generateSigningKey(path.join(options.workDir, 'keys'), 'choiros-gates-local-1');
  const cache = await startBinaryCache(path.join(options.workDir, 'cache'));
  const parts: string[] = [];
  try {
    // A substituter given from outside is checked before anything is built.
    if (options.warmCacheUrl) await checkCacheReachable(options.warmCacheUrl);
    parts.push(`# cold builds in an empty store of their own: ${stores.cold}; warm builds in another: ${stores.warm}\n`);

    const cold: FlakeBuild[] = [];
    for (const output of outputs) {
      const build = await buildFlakeOutput(output, { ...options.buildOptions, substituters: [], store: stores.cold });
      cold.push(build);
      parts.push(section(`cold build of ${output}: ${Math.round(build.durationMs)} ms`, build.command, build.log));
    }

    const pushedPaths = [...new Set((await Promise.all(cold.map((b) => runtimeClosure(b.storePath, stores.cold)))).flat())].sort();
    const pushArgs = ['copy', '--from', stores.cold, '--to', `${cache.url}?secret-key=${key.secretFile}&compression=zstd`, ...pushedPaths];
    const pushStarted = performance.now();
    const push = await runNix(pushArgs);
    const pushMs = performance.now() - pushStarted;
    parts.push(section(`push to the cache: ${Math.round(pushMs)} ms`, ['nix', ...pushArgs], push.stderr));
    if (push.exitCode !== 0) throw new Error(`nix copy to ${cache.url} failed: ${push.stderr.trim().split('\n').slice(-5).join('\n')}`);

    await options.afterPush?.(cache, key);
    const warmUrl = options.warmCacheUrl ?? cache.url;
    const trusted = [options.trustedPublicKey ?? key.publicKey];
    await checkCacheReachable(warmUrl);
    const results: OutputFigures[] = [];
    for (const [index, output] of outputs.entries()) {
      const coldBuild = cold[index];
      if (!coldBuild) throw new Error(`no cold build of ${output}`);
      const seen = cache.requests.length;
      const build = await buildFlakeOutput(output, { ...options.buildOptions, substituters: [warmUrl], trustedPublicKeys: trusted, store: stores.warm });
      parts.push(section(`warm build of ${output} from ${warmUrl}: ${Math.round(build.durationMs)} ms`, build.command, build.log));
      const warm = figures(build, warmUrl, cache.requests.slice(seen));
      if (warm.transcript.refused.length > 0) throw new CacheSignatureRefusedError(warmUrl, warm.transcript.refused.map(narinfoName), trusted);
      results.push({ output, cold: figures(coldBuild, undefined, []), warm });
    }
    const installed = results.map((r) => r.warm.storePath);
    const copied = await copyToMachineStore(installed, stores.warm);
    parts.push(section('the warm builds copied into this machine\'s store, to run them', ['nix', 'copy', '--from', stores.warm, '--no-check-sigs', ...installed], copied));
    return {
      cacheUrl: cache.url,
      publicKey: key.publicKey,
      packageSet: cold[0]?.packageSet ?? 'offline',
      outputs: results,
      coldTotalMs: results.reduce((s, r) => s + r.cold.durationMs, 0),
      warmTotalMs: results.reduce((s, r) => s + r.warm.durationMs, 0),
      pushMs,
      pushedPaths,
      stores,
      transcript: parts.join('\n'),
      requests: [...cache.requests],
    };
  } finally {
    await cache.close();
    for (const store of Object.values(stores)) removeStore(store);
  }
}
