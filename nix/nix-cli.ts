import { execa, type Options } from 'execa';

/** Nix is missing: says the apt line that installs it. */
export class NixMissingError extends Error {
  constructor(detail: string) {
    super(`the nix command is not available (${detail}): install it with \`apt-get install -y nix-bin\` (Debian/Ubuntu; scripts/setup.sh does it), or from https://nixos.org/download, then run this again.`);
    this.name = 'NixMissingError';
  }
}

/** The flags every nix call here shares: flakes on, and no narinfo answers remembered between builds. */
export const nixBaseArgs = ['--extra-experimental-features', 'nix-command flakes', '--option', 'narinfo-cache-negative-ttl', '0', '--option', 'narinfo-cache-positive-ttl', '0'];

export interface NixResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs `nix ARGS` (never throws for a non-zero exit; throws NixMissingError when nix is absent). */
export async function runNix(args: readonly string[], options: Options = {}): Promise<NixResult> {
  const nixBinary = process.env.CHOIROS_NIX_BINARY ?? 'nix';
  try {
    const result = await execa(nixBinary, [...nixBaseArgs, ...args], { ...options, reject: false, all: false, stdin: 'ignore' });
    if (result.failed && result.exitCode === undefined) throw result;
    return { stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode ?? 1 };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES') throw new NixMissingError(`${nixBinary}: ${code}`);
    throw error;
  }
}
