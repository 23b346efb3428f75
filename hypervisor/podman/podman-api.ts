import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Agent, request } from 'undici';
import { podmanBinary } from '../config.ts';
import { runsAsScript } from '../paths.ts';
import { containersConf, podmanEnv } from './podman.ts';

/**
 * Podman's Docker-compatible API socket, for testcontainers: one service per machine, podman
 * settings (the content of containers.conf) and image store (CONTAINERS_STORAGE_CONF, which an
 * integrity run sets to a store of its own), shared by every checkout and run with those, rather
 * than one per checkout that outlives its clone. Under /tmp itself, never a run's TMPDIR.
 */
export function podmanSocketPath(conf: string = containersConf(), storageConf: string | undefined = process.env.CONTAINERS_STORAGE_CONF): string {
  let settings = '';
  try {
    settings = readFileSync(conf, 'utf8');
  } catch {
    // No file: podman's own defaults, which are one setting too.
  }
  const hash = createHash('sha256').update(settings);
  // The machine's own store keeps the socket it always had.
  if (storageConf) hash.update(`\0${path.resolve(storageConf)}`);
  return path.join('/tmp', `choiros-gates-podman-${hash.digest('hex').slice(0, 12)}`, 'podman.sock');
}

/** Where the service's pid is kept, beside its socket: whoever removes a store stops its service. */
export const podmanServicePidFile = (socketPath: string): string => path.join(path.dirname(socketPath), 'service.pid');

/** Stops the service on `socketPath` (if its pid is known) and removes its folder: for whoever removes the store it serves. */
export async function stopPodmanApi(socketPath: string): Promise<void> {
  const pid = Number((await readFile(podmanServicePidFile(socketPath), 'utf8').catch(() => '')).trim());
  if (Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone: it stops by itself once idle.
    }
  }
  await rm(path.dirname(socketPath), { recursive: true, force: true });
}

/** The service ends once nothing has used it for this long; the next run that needs it starts it again. */
export const podmanServiceIdleSecs = 1800;

export const podmanServiceArgs = (socketPath: string): string[] => ['system', 'service', `--time=${podmanServiceIdleSecs}`, `unix://${socketPath}`];

async function answers(socketPath: string): Promise<boolean> {
  const dispatcher = new Agent({ connect: { socketPath } });
  try {
    const res = await request('http://podman/_ping', { dispatcher, headersTimeout: 2_000, bodyTimeout: 2_000 });
    await res.body.text();
    return res.statusCode === 200;
  } catch {
    return false;
  } finally {
    await dispatcher.close();
  }
}

/**
 * The service's environment, its settings read from a copy kept beside its socket: the service is
 * shared and outlives the checkout that started it (an integrity scratch copy, a clone that is
 * removed), and podman reads containers.conf again for each container it creates. With the
 * checkout's file gone it would fall back to defaults this host cannot run ("write child: broken pipe").
 */
export function serviceEnv(socketPath: string, source: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = podmanEnv(source);
  const conf = containersConf(source);
  if (!existsSync(conf)) return env;
  const kept = path.join(path.dirname(socketPath), 'containers.conf');
  writeFileSync(kept, readFileSync(conf, 'utf8'));
  return { ...env, CONTAINERS_CONF: kept };
}

/** Starts `podman system service` on the socket unless it already answers; resolves once it does. */
export async function ensurePodmanApi(binary = podmanBinary()): Promise<string> {
  const socketPath = podmanSocketPath();
  if (await answers(socketPath)) return socketPath;
  mkdirSync(path.dirname(socketPath), { recursive: true });
  rmSync(socketPath, { force: true });
  const child = spawn(binary, podmanServiceArgs(socketPath), {
    env: serviceEnv(socketPath),
    // Not the caller's folder: the service outlives it (a removed clone or scratch copy), and podman
    // run from a deleted folder fails every container it creates ("write child: broken pipe").
    cwd: '/',
    detached: true,
    stdio: 'ignore',
  });
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new Error(`Could not start "${binary} system service": ${err.message}. Install podman (npm run setup).`))),
  );
  child.unref();
  if (child.pid !== undefined) writeFileSync(podmanServicePidFile(socketPath), `${child.pid}\n`);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const up = await Promise.race([answers(socketPath), spawnError]);
    if (up) return socketPath;
    await sleep(100);
  }
  throw new Error(`podman's API did not answer on ${socketPath} within 15 s. Run "${binary} ${podmanServiceArgs(socketPath).join(' ')}" by hand to see why.`);
}

/** Points testcontainers at podman's socket on loopback. */
export function useTestcontainersOnPodman(socketPath: string): void {
  process.env.DOCKER_HOST = `unix://${socketPath}`;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
}

if (runsAsScript(import.meta.url)) {
  console.log(`podman API: unix://${await ensurePodmanApi()}`);
}
