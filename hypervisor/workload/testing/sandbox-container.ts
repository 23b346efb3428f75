import { randomUUID } from 'node:crypto';
import { GenericContainer, StartupCheckStrategy, Wait, type StartedTestContainer, type StartupStatus } from 'testcontainers';
import { podman } from '../../podman/podman.ts';

/**
 * The sandbox image on real podman through testcontainers (its API socket is started by the global
 * setup). Each container is labelled as a test container and removed by id afterwards.
 */
export interface SandboxContainer {
  container: StartedTestContainer;
  url(): string;
  remove(): Promise<void>;
}

export interface SandboxContainerOptions {
  env?: Record<string, string>;
  /** A host directory for /data; it must be writable by the image's user (see sandboxUser). */
  dataDir?: string;
}

const testLabel = 'choiros.test';

/**
 * testcontainers publishes ports on every interface (HostIp unset, so 0.0.0.0) and has no option for
 * the host address; only loopback may be a network target here, so every binding is pinned to it
 * just before the container is created.
 */
class LoopbackContainer extends GenericContainer {
  protected override async beforeContainerCreated(): Promise<void> {
    for (const bindings of Object.values(this.hostConfig.PortBindings ?? {}) as Array<Array<{ HostIp?: string }>>) {
      for (const binding of bindings) binding.HostIp = '127.0.0.1';
    }
  }
}

function configured(image: string, options: SandboxContainerOptions, marker: string): GenericContainer {
  let container = new LoopbackContainer(image).withLabels({ [testLabel]: marker }).withEnvironment(options.env ?? {});
  if (options.dataDir) container = container.withBindMounts([{ source: options.dataDir, target: '/data', mode: 'rw' }]);
  return container;
}

async function removeById(id: string): Promise<void> {
  await podman(['rm', '--force', '--time', '0', id]).catch(() => undefined);
}

/** Starts a configured container; if start fails, removes whatever testcontainers left behind. */
async function startMarked(image: string, options: SandboxContainerOptions, finish: (c: GenericContainer) => GenericContainer): Promise<StartedTestContainer> {
  const marker = `sandbox-image-${randomUUID()}`;
  try {
    return await finish(configured(image, options, marker)).start();
  } catch (error) {
    const ids = (await podman(['ps', '--all', '--quiet', '--filter', `label=${testLabel}=${marker}`]).catch(() => '')).split('\n').filter(Boolean);
    for (const id of ids) await removeById(id);
    throw error;
  }
}

export async function startSandboxContainer(image: string, options: SandboxContainerOptions = {}): Promise<SandboxContainer> {
  const container = await startMarked(image, options, (c) =>
    c.withExposedPorts(8080).withWaitStrategy(Wait.forHttp('/health', 8080).forStatusCode(200)).withStartupTimeout(60_000),
  );
  return {
    container,
    url: () => `http://${container.getHost()}:${container.getMappedPort(8080)}`,
    remove: () => removeById(container.getId()),
  };
}

/** Ready once the container has exited, whatever its exit code, so its logs and code can be read. */
type DockerClient = Parameters<StartupCheckStrategy['checkStartupState']>[0];

class ExitedStrategy extends StartupCheckStrategy {
  override async checkStartupState(dockerClient: DockerClient, containerId: string): Promise<StartupStatus> {
    const info = await dockerClient.getContainer(containerId).inspect();
    return info.State.Running ? 'PENDING' : 'SUCCESS';
  }
}

/** Starts a container expected to refuse to start; resolves with its exit code and logs. */
export async function runRefusedContainer(image: string, options: SandboxContainerOptions): Promise<{ exitCode: number; logs: string }> {
  // No network: nothing listens, and the image's EXPOSE would otherwise make testcontainers wait for a port binding.
  const container = await startMarked(image, options, (c) => c.withNetworkMode('none').withWaitStrategy(new ExitedStrategy()).withStartupTimeout(30_000));
  try {
    const exitCode = Number((await podman(['inspect', '--format', '{{.State.ExitCode}}', container.getId()])).trim());
    const logs = await podman(['logs', container.getId()]).then(String);
    return { exitCode, logs };
  } finally {
    await removeById(container.getId());
  }
}
