import type { CacheRequest } from './server.ts';

/** Hits and misses as Nix itself printed them while building. */
export interface NixTranscriptCounts {
  /** Store paths Nix copied from the cache (`copying path '…' from '<cache>'...`). */
  hits: string[];
  /** Derivations Nix had to build (`building '…drv'...`). */
  misses: string[];
  /** Paths whose substitute Nix refused for its signature (`… is not signed by any of the keys …`). */
  refused: string[];
}

export function countTranscript(log: string, cacheUrl?: string): NixTranscriptCounts {
  const hits: string[] = [];
  const misses: string[] = [];
  const refused = new Set<string>();
  for (const line of log.split('\n')) {
    const copied = /copying path '(\/nix\/store\/[^']+)' from '([^']+)'/.exec(line);
    if (copied?.[1] && (cacheUrl === undefined || copied[2] === cacheUrl)) hits.push(copied[1]);
    const built = /building '(\/nix\/store\/[^']+\.drv)'/.exec(line);
    if (built?.[1]) misses.push(built[1]);
    const unsigned = /the substitute for '(\/nix\/store\/[^']+)' from '([^']+)' is not signed by any of the keys/.exec(line);
    if (unsigned?.[1]) refused.add(unsigned[1]);
  }
  return { hits, misses, refused: [...refused] };
}

/** Hits and misses as the cache saw them: narinfo answered 200 against 404, NARs served. */
export interface CacheLogCounts {
  narinfoHits: number;
  narinfoMisses: number;
  narsServed: number;
  narBytes: number;
}

export function countCacheLog(requests: readonly CacheRequest[]): CacheLogCounts {
  const narinfo = requests.filter((r) => (r.method === 'GET' || r.method === 'HEAD') && r.path.endsWith('.narinfo'));
  const nars = requests.filter((r) => r.method === 'GET' && r.path.startsWith('/nar/') && r.status === 200);
  return {
    narinfoHits: narinfo.filter((r) => r.status === 200).length,
    narinfoMisses: narinfo.filter((r) => r.status === 404).length,
    narsServed: nars.length,
    narBytes: nars.reduce((sum, r) => sum + r.bytes, 0),
  };
}

/** `<hash>.narinfo` of a store path: the cache file a refusal is about. */
export function narinfoName(storePath: string): string {
  return `${storePath.slice('/nix/store/'.length, '/nix/store/'.length + 32)}.narinfo`;
}
