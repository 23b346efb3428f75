import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { connectionsSection, type ConnectionsConfig } from './config-connections.ts';
import { ConfigError, readChoice, readInteger, readString, type Env } from './env-values.ts';
import { packageVersion } from './version.ts';
import { runtimeKinds, type RuntimeKind } from './domain/runtime-kind.ts';

export { ConfigError, type Env } from './env-values.ts';
export type { ConnectionsConfig } from './config-connections.ts';

/**
 * All of the hypervisor's environment, parsed once and checked in one place. Each concern has its
 * own section and its own small `…Section(env)` function; a new concern adds a section here.
 */
export interface HypervisorConfig {
  server: ServerConfig;
  store: StoreConfig;
  sandboxes: SandboxesConfig;
  admin: AdminConfig;
  webauthn: WebAuthnConfig;
  routing: RoutingConfig;
  connections: ConnectionsConfig;
  cloudwatch: CloudWatchConfig;
}

export interface ServerConfig {
  host: string;
  /** 0 = any free port; the real one is known once listening. */
  port: number;
  version: string;
}

export interface StoreConfig {
  databaseUrl: string;
  /** Where the hypervisor keeps its own files (a generated admin token): next to the database. */
  stateDir: string;
}

export interface SandboxesConfig {
  runtime: RuntimeKind;
  image: string;
  podmanBinary: string;
  dataRoot: string;
  /** Identifies this hypervisor's sandboxes (the choiros.instance label): a digest of the data root. */
  instanceId: string;
  /** 0 = never stop idle sandboxes. */
  idleTimeoutSecs: number;
  readyTimeoutMs: number;
  stopTimeoutSecs: number;
  /** Crash restarts in a row before a sandbox is marked failed. */
  restartLimit: number;
  restartBackoffMs: number;
}

export interface AdminConfig {
  token: string;
  source: 'env' | 'credential' | 'file' | 'generated';
  /** The file the token came from or was written to (never the token itself in logs). */
  tokenFile: string | undefined;
}

export interface WebAuthnConfig {
  rpId: string;
  rpName: string;
  rpOrigin: string;
  /** True when rpOrigin was derived from the port; startHypervisor fills in the real port when it was 0. */
  rpOriginIsDefault: boolean;
}

export interface RoutingConfig {
  /** How many of the newest known-good releases keep their images (never pruned). */
  knownGoodRetain: number;
}

/** Publishing key figures to CloudWatch (off by default); credentials come from the AWS SDK's usual chain. */
export interface CloudWatchConfig {
  enabled: boolean;
  region: string;
  /** Another CloudWatch endpoint (a stand-in such as moto); undefined = AWS's own for the region. */
  endpoint: string | undefined;
  namespace: string;
  intervalMs: number;
  /** The value of the Host dimension every figure carries. */
  host: string;
}

/** An http(s) origin: scheme, host and optional port, nothing else. */
export function readOrigin(env: Env, name: string, fallback: string): string {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, raw, 'use an origin such as https://choir.example.com or http://localhost:9090');
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.origin !== raw.replace(/\/$/, '')) {
    throw new ConfigError(name, raw, 'use an origin (http or https scheme, host, optional port; no path), such as https://choir.example.com');
  }
  return url.origin;
}

/** HYPERVISOR_PORT (default 9090; 0 = any free port). */
export const hypervisorPort = (env: Env): number => readInteger(env, 'HYPERVISOR_PORT', 9090, 0, 65_535);

/** SANDBOX_DATA_ROOT (default ./data/sandboxes), absolute. */
const sandboxDataRoot = (env: Env): string => path.resolve(readString(env, 'SANDBOX_DATA_ROOT') ?? './data/sandboxes');

/**
 * The file a hypervisor started without an admin token generates its token into: admin-token in its
 * state directory (next to its database). The CLI's admin client reads it from the same place.
 */
export function generatedTokenFile(env: Env): string {
  return path.join(storeSection(env, sandboxDataRoot(env)).stateDir, 'admin-token');
}

function serverSection(env: Env): ServerConfig {
  const host = readString(env, 'HYPERVISOR_HOST') ?? '127.0.0.1';
  if (!isIP(host) && !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(host)) {
    throw new ConfigError('HYPERVISOR_HOST', host, 'use an IP address or host name to bind (default 127.0.0.1)');
  }
  return { host, port: hypervisorPort(env), version: packageVersion };
}

function storeSection(env: Env, dataRoot: string): StoreConfig {
  const databaseUrl = readString(env, 'HYPERVISOR_DATABASE_URL') ?? 'sqlite:./data/hypervisor.db';
  const match = /^sqlite:(.+)$/.exec(databaseUrl);
  if (!match?.[1]) {
    throw new ConfigError('HYPERVISOR_DATABASE_URL', databaseUrl, 'use sqlite:PATH (for example sqlite:./data/hypervisor.db) or sqlite::memory:');
  }
  const file = match[1];
  const stateDir = file === ':memory:' ? path.dirname(dataRoot) : path.dirname(path.resolve(file));
  return { databaseUrl: file === ':memory:' ? databaseUrl : `sqlite:${path.resolve(file)}`, stateDir };
}

/** Image references as podman accepts them: [registry/]name[:tag][@digest], lowercase name. */
const imageReference = /^[a-z0-9][a-z0-9._/:-]*(@sha256:[a-f0-9]{64})?$|^[a-f0-9]{12,64}$/;

/** The one image-reference rule, for the admin API's bodies too. */
export function isImageReference(image: string): boolean {
  return imageReference.test(image);
}

/**
 * The podman command (SANDBOX_PODMAN_BINARY, default podman). The one reading of it: the
 * hypervisor's configuration, the podman helpers, the image build and the tests all ask here.
 */
export function podmanBinary(env: Env = process.env): string {
  const binary = readString(env, 'SANDBOX_PODMAN_BINARY') ?? 'podman';
  if (/\s/.test(binary)) throw new ConfigError('SANDBOX_PODMAN_BINARY', binary, 'use a command name or path without spaces (default podman)');
  return binary;
}

function sandboxesSection(env: Env): SandboxesConfig {
  const dataRoot = sandboxDataRoot(env);
  const image = readString(env, 'SANDBOX_CONTAINER_IMAGE') ?? 'choir-sandbox:latest';
  if (!imageReference.test(image)) {
    throw new ConfigError('SANDBOX_CONTAINER_IMAGE', image, 'use an image reference such as localhost/choir-sandbox:0.1.0 (default choir-sandbox:latest)');
  }
  return {
    runtime: readChoice(env, 'SANDBOX_RUNTIME', runtimeKinds, 'process'),
    image,
    podmanBinary: podmanBinary(env),
    dataRoot,
    instanceId: createHash('sha256').update(dataRoot).digest('hex').slice(0, 12),
    idleTimeoutSecs: readInteger(env, 'SANDBOX_IDLE_TIMEOUT_SECS', 1800, 0, 7 * 24 * 3600),
    readyTimeoutMs: readInteger(env, 'SANDBOX_READY_TIMEOUT_SECS', 30, 1, 600) * 1000,
    stopTimeoutSecs: readInteger(env, 'SANDBOX_STOP_TIMEOUT_SECS', 5, 1, 300),
    restartLimit: readInteger(env, 'SANDBOX_RESTART_LIMIT', 5, 0, 100),
    restartBackoffMs: readInteger(env, 'SANDBOX_RESTART_BACKOFF_MS', 500, 10, 60_000),
  };
}

const minimumTokenLength = 16;

function checkedToken(variable: string, shown: string, token: string): string {
  if (token.length < minimumTokenLength || /\s/.test(token)) {
    throw new ConfigError(variable, shown, `the admin token must be at least ${minimumTokenLength} characters without spaces`);
  }
  return token;
}

/** The systemd credential the admin token comes in (LoadCredential=admin-token:FILE, hypervisor/nixos/module.nix). */
export const adminTokenCredential = 'admin-token';

/**
 * A systemd credential: the file `name` in $CREDENTIALS_DIRECTORY, which systemd fills from
 * LoadCredential= so secrets never pass through the unit's Environment or the Nix store. Undefined
 * when the service has no credentials directory; a directory without the credential is an error
 * naming the file, never its content.
 */
export function readCredential(env: Env, name: string): { file: string; content: string } | undefined {
  const dir = readString(env, 'CREDENTIALS_DIRECTORY');
  if (dir === undefined) return undefined;
  const file = path.join(dir, name);
  try {
    return { file, content: readFileSync(file, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    if (code === 'ENOENT') return undefined;
    throw new ConfigError('CREDENTIALS_DIRECTORY', dir, `the credential ${file} cannot be read (${code}); check the unit's LoadCredential=${name}:FILE`);
  }
}

/**
 * HYPERVISOR_ADMIN_TOKEN, else the systemd credential admin-token, else HYPERVISOR_ADMIN_TOKEN_FILE, else a token generated once and kept in
 * a 0600 file in the state directory, so that it survives restarts. Token values never appear in errors.
 */
function adminSection(env: Env, stateDir: string): AdminConfig {
  const direct = env.HYPERVISOR_ADMIN_TOKEN;
  if (direct !== undefined && direct !== '') {
    return { token: checkedToken('HYPERVISOR_ADMIN_TOKEN', '(hidden)', direct.trim()), source: 'env', tokenFile: undefined };
  }
  const credential = readCredential(env, adminTokenCredential);
  if (credential) {
    return { token: checkedToken('CREDENTIALS_DIRECTORY', credential.file, credential.content.trim()), source: 'credential', tokenFile: credential.file };
  }
  const fileName = readString(env, 'HYPERVISOR_ADMIN_TOKEN_FILE');
  if (fileName !== undefined) {
    const file = path.resolve(fileName);
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError('HYPERVISOR_ADMIN_TOKEN_FILE', fileName, `the file cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); point it to a readable file holding the admin token`);
    }
    return { token: checkedToken('HYPERVISOR_ADMIN_TOKEN_FILE', fileName, content.trim()), source: 'file', tokenFile: file };
  }
  const file = generatedTokenFile(env);
  if (existsSync(file)) {
    return { token: checkedToken('HYPERVISOR_ADMIN_TOKEN_FILE', file, readFileSync(file, 'utf8').trim()), source: 'generated', tokenFile: file };
  }
  mkdirSync(stateDir, { recursive: true });
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { token, source: 'generated', tokenFile: file };
}

/** The origin a browser sends for http://localhost:PORT: URL's own writing, so port 80 (the scheme's default) is left out. */
const localOrigin = (port: number): string => new URL(`http://localhost:${port}`).origin;

function webauthnSection(env: Env, port: number): WebAuthnConfig {
  const rpId = readString(env, 'WEBAUTHN_RP_ID') ?? 'localhost';
  if (isIP(rpId) || !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(rpId)) {
    throw new ConfigError('WEBAUTHN_RP_ID', rpId, 'use a domain name such as localhost or choir.example.com (WebAuthn does not accept IP addresses)');
  }
  const fallbackOrigin = localOrigin(port);
  const rpOrigin = readOrigin(env, 'WEBAUTHN_RP_ORIGIN', fallbackOrigin);
  return {
    rpId,
    rpName: readString(env, 'WEBAUTHN_RP_NAME') ?? 'ChoirOS',
    rpOrigin,
    rpOriginIsDefault: readString(env, 'WEBAUTHN_RP_ORIGIN') === undefined,
  };
}

function routingSection(env: Env): RoutingConfig {
  return { knownGoodRetain: readInteger(env, 'HYPERVISOR_KNOWN_GOOD_RETAIN', 5, 1, 1000) };
}

function cloudwatchSection(env: Env): CloudWatchConfig {
  const region = readString(env, 'HYPERVISOR_CLOUDWATCH_REGION') ?? 'us-east-1';
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new ConfigError('HYPERVISOR_CLOUDWATCH_REGION', region, 'use an AWS region such as eu-central-1 (default us-east-1)');
  const namespace = readString(env, 'HYPERVISOR_CLOUDWATCH_NAMESPACE') ?? 'ChoirOS/Hypervisor';
  if (!/^[A-Za-z0-9._/#:-]{1,255}$/.test(namespace) || namespace.startsWith('AWS/')) {
    throw new ConfigError('HYPERVISOR_CLOUDWATCH_NAMESPACE', namespace, 'use 1-255 letters, digits and . _ / # : -, not starting with AWS/ (default ChoirOS/Hypervisor)');
  }
  const host = readString(env, 'HYPERVISOR_CLOUDWATCH_HOST') ?? hostname();
  if (!/^[\x21-\x7e]{1,255}$/.test(host)) throw new ConfigError('HYPERVISOR_CLOUDWATCH_HOST', host, 'use 1-255 printable characters without spaces (default: the machine\'s host name)');
  return {
    enabled: readChoice(env, 'HYPERVISOR_CLOUDWATCH', ['off', 'on'], 'off') === 'on',
    region,
    endpoint: readString(env, 'HYPERVISOR_CLOUDWATCH_ENDPOINT') === undefined ? undefined : readOrigin(env, 'HYPERVISOR_CLOUDWATCH_ENDPOINT', ''),
    namespace,
    intervalMs: readInteger(env, 'HYPERVISOR_CLOUDWATCH_INTERVAL_SECS', 60, 1, 3600) * 1000,
    host,
  };
}

/** Parses and checks the environment; throws one ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): HypervisorConfig {
  const server = serverSection(env);
  const sandboxes = sandboxesSection(env);
  const store = storeSection(env, sandboxes.dataRoot);
  return {
    server,
    store,
    sandboxes,
    admin: adminSection(env, store.stateDir),
    webauthn: webauthnSection(env, server.port),
    routing: routingSection(env),
    connections: connectionsSection(env),
    cloudwatch: cloudwatchSection(env),
  };
}

/** The config as it is once the server listens: a default WebAuthn origin names the real port. */
export function withListeningPort(config: HypervisorConfig, port: number): HypervisorConfig {
  if (!config.webauthn.rpOriginIsDefault) return config;
  return { ...config, webauthn: { ...config.webauthn, rpOrigin: localOrigin(port) } };
}
