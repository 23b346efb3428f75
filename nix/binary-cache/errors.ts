/** The cache cannot be reached: its URL and the error, and what to check. */
export class CacheUnreachableError extends Error {
  constructor(url: string, detail: string) {
    super(`the binary cache at ${url} cannot be reached (${detail}): start it, or fix the substituter URL (nix.conf substituters, or the workflow's cache step), then build again.`);
    this.name = 'CacheUnreachableError';
  }
}

/** Nix refused substitutes for their signatures: the paths, their narinfo files, and the key it trusted. */
export class CacheSignatureRefusedError extends Error {
  readonly narinfos: string[];
  constructor(url: string, narinfos: string[], trustedKeys: readonly string[]) {
    super(
      `Nix refused ${narinfos.length} substitute(s) from ${url} as not signed by a trusted key: ${narinfos.join(', ')}. ` +
        `Trusted: ${trustedKeys.map((k) => k.split(':')[0]).join(', ')}. A narinfo was altered after signing, or the cache signs with another key: re-push with the right key (nix copy --to '${url}?secret-key=FILE'), or trust the cache's public key.`,
    );
    this.name = 'CacheSignatureRefusedError';
    this.narinfos = narinfos;
  }
}
