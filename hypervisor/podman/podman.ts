import { spawn, type ChildProcess } from 'node:child_process';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { podmanBinary } from '../config.ts';
import { fromRoot } from '../paths.ts';

/**
 * The one place that runs the podman CLI. Every call carries CONTAINERS_CONF so podman uses the
 * settings this kind of host needs (runc, rlimits), without touching /etc.
 */
export function containersConf(source: NodeJS.ProcessEnv = process.env): string {
  return source.CONTAINERS_CONF ?? fromRoot('scripts', 'containers.conf');
}

/**
 * What podman needs from our environment to find its tools, its state and its settings. Nothing
 * else is passed on: podman copies proxy variables (credentials included) into containers, and a
 * platform secret in our environment has no business reaching podman at all.
 */
export const podmanEnvNames = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TMPDIR', 'XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'CONTAINERS_STORAGE_CONF', 'CONTAINERS_REGISTRIES_CONF', 'CONTAINER_HOST', 'CONTAINER_CONNECTION', 'CONTAINER_SSHKEY', 'STORAGE_DRIVER', 'STORAGE_OPTS', 'DBUS_SESSION_BUS_ADDRESS'] as const;

export function podmanEnv(source: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of podmanEnvNames) {
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  const conf = containersConf(source);
  if (existsSync(conf)) env.CONTAINERS_CONF = conf;
  return env;
}

export class PodmanError extends Error {
  readonly binary: string;
  readonly args: readonly string[];
  readonly exitCode: number | undefined;
  readonly stderr: string;
  constructor(binary: string, args: readonly string[], exitCode: number | undefined, stderr: string, hint: string) {
    super(`${binary} ${args.join(' ')} failed${exitCode === undefined ? '' : ` (exit ${exitCode})`}: ${stderr.trim() || '(no output)'}. ${hint}`);
    this.name = 'PodmanError';
    this.binary = binary;
    this.args = args;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

export interface PodmanOptions {
  binary?: string;
  input?: string | Buffer;
  timeoutMs?: number;
  /** Settings over this process's environment (another store's CONTAINERS_STORAGE_CONF); only podman's names are passed on. */
  env?: Readonly<Record<string, string>>;
}

/** Runs `podman ARGS`; resolves to stdout, or throws a PodmanError naming the binary and what it answered. */
export async function podman(args: readonly string[], options: PodmanOptions = {}): Promise<string> {
  const binary = options.binary ?? podmanBinary();
  const result = await execa(binary, args, {
    env: podmanEnv(options.env ? { ...process.env, ...options.env } : process.env),
    extendEnv: false,
    reject: false,
    timeout: options.timeoutMs ?? 120_000,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  if (result.failed) {
    const missing = result.code === 'ENOENT';
    const hint = missing
      ? `The podman binary "${binary}" was not found: install podman (npm run setup does it on Debian) or set SANDBOX_PODMAN_BINARY.`
      : 'Check that podman works on this host (npm run setup prepares it).';
    const detail = missing ? 'not found' : String(result.stderr || result.shortMessage);
    throw new PodmanError(binary, args, result.exitCode, detail, hint);
  }
  return String(result.stdout);
}

/** `podman version` as a short string, or a PodmanError. */
export async function podmanVersion(binary?: string): Promise<string> {
  return (await podman(['version', '--format', '{{.Client.Version}}'], binary ? { binary } : {})).trim();
}

/** Starts `podman ARGS` with the same settings and its output piped; the caller owns the process. */
export function podmanSpawn(args: readonly string[], binary = podmanBinary()): ChildProcess {
  return spawn(binary, args, { env: podmanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Runs podman while the shell holds our stdin pipe: when that closes (stdin.end(), or this process
 * dies, even by SIGKILL) podman is killed, so a long-running `podman events` never outlives us.
 */
const tiedToParent = 'exec 3<&0\n"$0" "$@" 3<&- &\nchild=$!\n{ read -r _ <&3; kill "$child" 2>/dev/null; } &\nwait "$child"';

/** A long-running `podman ARGS` (for example `events`) that ends with this process; stop it with stdin.end(). */
export function podmanSpawnTied(args: readonly string[], binary = podmanBinary()): ChildProcess {
  return spawn('/bin/sh', ['-c', tiedToParent, binary, ...args], { env: podmanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
}
