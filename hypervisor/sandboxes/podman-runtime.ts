import { podman, PodmanError, podmanSpawn, podmanVersion } from '../podman/podman.ts';
import type { Logger } from '../log.ts';
import { ensureDataDir, type Owner } from './data-dir.ts';
import { sandboxEnv } from './env.ts';
import { lastLines } from './log-tail.ts';
import { PodmanExitWatch } from './podman-exits.ts';
import type { FoundInstance, LaunchRequest, RuntimeInstance, SandboxRuntime } from './runtime.ts';
import { parseRole } from '../domain/role.ts';
import type { SandboxKey } from '../domain/sandbox.ts';
import { userIdPattern } from './user-id.ts';

export const containerName = (key: SandboxKey): string => `choiros-sandbox-${key.userId}-${key.role}`;

/** The port the sandbox listens on inside its container (the image sets PORT=8080 too). */
export const containerPort = 8080;

interface PsEntry {
  Id: string;
  Names?: string[];
  State?: string;
  Image?: string;
  Labels?: Record<string, string> | null;
}

export class SandboxImageMissingError extends Error {
  constructor(image: string, detail: string) {
    super(`the sandbox image ${image} is not in podman's image store (${detail.trim()}); build it with "npm run image" or set SANDBOX_CONTAINER_IMAGE`);
    this.name = 'SandboxImageMissingError';
  }
}

/** The image's USER as numeric uid:gid, which the mounted data directory must belong to. */
export function parseImageUser(user: string): Owner | undefined {
  const match = /^(\d+)(?::(\d+))?$/.exec(user.trim());
  if (!match) return undefined;
  const uid = Number(match[1]);
  return { uid, gid: match[2] === undefined ? uid : Number(match[2]) };
}

export interface PodmanRunInput {
  name: string;
  image: string;
  labels: Readonly<Record<string, string>>;
  hostPort: number;
  dataDir: string;
  env: Readonly<Record<string, string>>;
  stopTimeoutSecs: number;
}

/**
 * `podman run` for one sandbox; the raw-podman bench baseline uses it too, so both run the same way.
 * slirp4netns gives each container its own user-mode network: no shared bridge, so one sandbox cannot
 * reach another's address, and the host's loopback (where published ports and the hypervisor listen)
 * is not reachable from inside. --http-proxy=false stops podman copying its proxy variables
 * (credentials included) into the container. --init puts podman's catatonit in front as PID 1, so
 * a SIGTERM that arrives before the sandbox has installed its handler still ends it promptly.
 */
export function podmanRunArgs(input: PodmanRunInput): string[] {
  return [
    'run', '--detach', '--pull=never', '--name', input.name,
    ...Object.entries(input.labels).flatMap(([label, value]) => ['--label', `${label}=${value}`]),
    '--network=slirp4netns', '--http-proxy=false', '--init',
    '--publish', `127.0.0.1:${input.hostPort}:${containerPort}`,
    '--volume', `${input.dataDir}:/data`,
    ...Object.entries(input.env).flatMap(([variable, value]) => ['--env', `${variable}=${value}`]),
    '--stop-timeout', String(input.stopTimeoutSecs),
    '--cap-drop=all', '--security-opt=no-new-privileges',
    input.image,
  ];
}

/**
 * Sandboxes as podman containers named choiros-sandbox-<user>-<role>, labelled with this
 * hypervisor's instance so that reconcile never touches anyone else's containers. The published
 * port is loopback only and the environment is the allowlist, passed as explicit --env arguments.
 */
export class PodmanRuntime implements SandboxRuntime {
  readonly kind = 'podman' as const;
  private readonly binary: string;
  private readonly instanceId: string;
  private readonly stopTimeoutSecs: number;
  private readonly exits: PodmanExitWatch;
  private readonly owners = new Map<string, Promise<Owner | undefined>>();

  constructor(options: { binary: string; instanceId: string; stopTimeoutSecs: number; log: Logger }) {
    this.binary = options.binary;
    this.instanceId = options.instanceId;
    this.stopTimeoutSecs = options.stopTimeoutSecs;
    this.exits = new PodmanExitWatch({ binary: options.binary, instanceId: options.instanceId, log: options.log });
  }

  private run(args: readonly string[]): Promise<string> {
    return podman(args, { binary: this.binary });
  }

  /** Fails with a PodmanError naming the binary and its answer when podman is missing or broken. */
  async check(): Promise<void> {
    await podmanVersion(this.binary);
    this.exits.start();
  }

  private imageOwner(image: string): Promise<Owner | undefined> {
    let owner = this.owners.get(image);
    if (!owner) {
      owner = this.run(['image', 'inspect', '--format', '{{.Config.User}}', image]).then(
        (user) => parseImageUser(user),
        (error: unknown) => {
          this.owners.delete(image);
          throw error instanceof PodmanError ? new SandboxImageMissingError(image, error.stderr) : error;
        },
      );
      this.owners.set(image, owner);
    }
    return owner;
  }

  async launch(request: LaunchRequest): Promise<RuntimeInstance> {
    const { key, spec } = request;
    await ensureDataDir(request.dataDir, await this.imageOwner(spec.image));
    const env = sandboxEnv({ key, port: containerPort, dataDir: '/data', config: spec.config });
    const name = containerName(key);
    if (request.previousContainerId) await this.run(['rm', '--force', '--ignore', request.previousContainerId]);
    const args = podmanRunArgs({
      name,
      image: spec.image,
      labels: { 'choiros.managed': 'true', 'choiros.user': key.userId, 'choiros.role': key.role, 'choiros.image': spec.image, 'choiros.instance': this.instanceId },
      hostPort: request.hostPort,
      dataDir: request.dataDir,
      env,
      stopTimeoutSecs: this.stopTimeoutSecs,
    });
    let containerId: string;
    try {
      containerId = (await this.run(args)).trim();
    } catch (error) {
      if (!(error instanceof PodmanError) || !/already in use/.test(error.stderr)) throw error;
      await this.clearName(name);
      containerId = (await this.run(args)).trim();
    }
    return { runtime: 'podman', containerId, pid: null, pidStart: null, exited: this.exits.exitOf(containerId) };
  }

  /** A leftover container of ours under the name is replaced; anyone else's is never touched. */
  private async clearName(name: string): Promise<void> {
    const owner = (await this.run(['container', 'inspect', '--format', '{{index .Config.Labels "choiros.instance"}}', name])).trim();
    if (owner !== this.instanceId) {
      throw new Error(`the container name ${name} is taken by a container that is not this hypervisor's (choiros.instance=${owner || 'none'}); remove it or use another user id`);
    }
    await this.run(['rm', '--force', name]);
  }

  async stop(instance: RuntimeInstance, timeoutSecs: number): Promise<void> {
    if (!instance.containerId) return;
    try {
      await this.run(['stop', '--time', String(timeoutSecs), instance.containerId]);
    } catch (error) {
      if (error instanceof PodmanError && /no such container/i.test(error.stderr)) return;
      throw error;
    }
  }

  async find(): Promise<FoundInstance[]> {
    const entries = JSON.parse((await this.run(['ps', '--all', '--format', 'json', '--filter', `label=choiros.instance=${this.instanceId}`])) || '[]') as PsEntry[];
    const found: FoundInstance[] = [];
    for (const entry of entries) {
      const labels = entry.Labels ?? {};
      const userId = labels['choiros.user'] ?? '';
      let key: SandboxKey;
      try {
        if (!userIdPattern.test(userId)) throw new Error('not a user id');
        key = { userId, role: parseRole(labels['choiros.role'] ?? '') };
      } catch {
        continue;
      }
      found.push({ key, running: entry.State === 'running', containerId: entry.Id, pid: null, pidStart: null, image: labels['choiros.image'] ?? entry.Image ?? null });
    }
    return found;
  }

  attach(found: FoundInstance): RuntimeInstance {
    const containerId = found.containerId as string;
    return {
      runtime: 'podman',
      containerId,
      pid: null,
      pidStart: null,
      exited: found.running ? this.exits.exitOf(containerId) : Promise.resolve('not running'),
    };
  }

  async remove(found: FoundInstance, timeoutSecs: number): Promise<void> {
    if (!found.containerId) return;
    await this.run(['rm', '--force', '--time', String(timeoutSecs), found.containerId]);
  }

  /** Both of the container's output streams: `podman logs` splits them, errors usually go to stderr. */
  logTail(key: SandboxKey, instance: RuntimeInstance | undefined, lines: number): Promise<string> {
    const target = instance?.containerId ?? containerName(key);
    return new Promise((resolve) => {
      const child = podmanSpawn(['logs', '--tail', String(lines), target], this.binary);
      let text = '';
      child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      child.once('error', (error) => resolve(`(podman logs failed: ${error.message})`));
      child.once('close', () => resolve(lastLines(text, lines)));
    });
  }

  async close(): Promise<void> {
    this.exits.close();
  }
}
