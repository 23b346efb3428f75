import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { buildFlakeOutput, flakeOutputs, type BuildOptions, type FlakeBuild, type FlakeOutput, type PackageSetChoice } from '../build.ts';
import { runNix } from '../nix-cli.ts';
import { CacheSignatureRefusedError, CacheUnreachableError } from './errors.ts';
import { startBinaryCache, type BinaryCache, type CacheRequest } from './server.ts';
import { generateSigningKey, type SigningKey } from './signing-key.ts';
import { deleteFromStore, ourStorePaths, runtimeClosure, type DeleteResult } from './store-paths.ts';
import { countCacheLog, countTranscript, narinfoName, type CacheLogCounts, type NixTranscriptCounts } from './transcript.ts';

export interface BuildFigures {
  durationMs: number;
  storePath: string;
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
  clearedBeforeCold: DeleteResult;
  clearedBeforeWarm: DeleteResult;
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
  return { durationMs: build.durationMs, storePath: build.storePath, transcript: countTranscript(build.log, cacheUrl), cacheLog: countCacheLog(requests) };
}

function section(title: string, command: readonly string[], log: string): string {
  return `$ ${command.join(' ')}\n# ${title}\n${log.trim()}\n`;
}

/**
 * The Phase 2 cache experiment on this machine: clear our paths from the store, build the outputs
 * cold (no substituter), push their closures to a signed HTTP binary cache on 127.0.0.1, clear
 * them again, build warm from the cache. Hits and misses come from Nix's transcript and the
 * cache's request log; durations from the builds.
 */
export async function measureCache(options: MeasureOptions): Promise<CacheMeasurement> {
  const outputs = options.outputs ?? flakeOutputs;
  mkdirSync(options.workDir, { recursive: true });
  const key = await generateSigningKey(path.join(options.workDir, 'keys'), 'choiros-gates-local-1');
  const cache = await startBinaryCache(path.join(options.workDir, 'cache'));
  const parts: string[] = [];
  try {
    // A substituter given from outside is checked before anything is built or deleted.
    if (options.warmCacheUrl) await checkCacheReachable(options.warmCacheUrl);
    const ours = await ourStorePaths(outputs, options.buildOptions);
    const clearedBeforeCold = await deleteFromStore(ours);
    parts.push(`# cleared ${clearedBeforeCold.deleted.length} of our store paths before the cold builds; alive (in use elsewhere, left): ${clearedBeforeCold.alive.join(' ') || 'none'}\n`);

    const cold: FlakeBuild[] = [];
    for (const output of outputs) {
      const build = await buildFlakeOutput(output, { ...options.buildOptions, substituters: [] });
      cold.push(build);
      parts.push(section(`cold build of ${output}: ${Math.round(build.durationMs)} ms`, build.command, build.log));
    }

    const pushedPaths = [...new Set((await Promise.all(cold.map((b) => runtimeClosure(b.storePath)))).flat())].sort();
    const pushArgs = ['copy', '--to', `${cache.url}?secret-key=${key.secretFile}&compression=zstd`, ...pushedPaths];
    const pushStarted = performance.now();
    const push = await runNix(pushArgs);
    const pushMs = performance.now() - pushStarted;
    parts.push(section(`push to the cache: ${Math.round(pushMs)} ms`, ['nix', ...pushArgs], push.stderr));
    if (push.exitCode !== 0) throw new Error(`nix copy to ${cache.url} failed: ${push.stderr.trim().split('\n').slice(-5).join('\n')}`);

    await options.afterPush?.(cache, key);
    const clearedBeforeWarm = await deleteFromStore(await ourStorePaths(outputs, options.buildOptions));
    parts.push(`# cleared ${clearedBeforeWarm.deleted.length} of our store paths before the warm builds; alive (left): ${clearedBeforeWarm.alive.join(' ') || 'none'}\n`);

    const warmUrl = options.warmCacheUrl ?? cache.url;
    const trusted = [options.trustedPublicKey ?? key.publicKey];
    await checkCacheReachable(warmUrl);
    const results: OutputFigures[] = [];
    for (const [index, output] of outputs.entries()) {
      const coldBuild = cold[index];
      if (!coldBuild) throw new Error(`no cold build of ${output}`);
      const seen = cache.requests.length;
      const build = await buildFlakeOutput(output, { ...options.buildOptions, substituters: [warmUrl], trustedPublicKeys: trusted });
      parts.push(section(`warm build of ${output} from ${warmUrl}: ${Math.round(build.durationMs)} ms`, build.command, build.log));
      const warm = figures(build, warmUrl, cache.requests.slice(seen));
      if (warm.transcript.refused.length > 0) throw new CacheSignatureRefusedError(warmUrl, warm.transcript.refused.map(narinfoName), trusted);
      results.push({ output, cold: figures(coldBuild, undefined, []), warm });
    }
    return {
      cacheUrl: cache.url,
      publicKey: key.publicKey,
      packageSet: cold[0]?.packageSet ?? 'offline',
      outputs: results,
      coldTotalMs: results.reduce((s, r) => s + r.cold.durationMs, 0),
      warmTotalMs: results.reduce((s, r) => s + r.warm.durationMs, 0),
      pushMs,
      pushedPaths,
      clearedBeforeCold,
      clearedBeforeWarm,
      transcript: parts.join('\n'),
      requests: [...cache.requests],
    };
  } finally {
    await cache.close();
  }
}
