import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hypervisorEnv, removeDir, spawnHypervisor, startTestHypervisor, uniqueUser, type TestHypervisor } from '../fixtures/test-hypervisor.ts';
import type { SandboxView } from '../hypervisor/http/admin-sandboxes.ts';
import { podman } from '../hypervisor/podman/podman.ts';
import { rawPodmanStart } from './raw-podman.ts';
import { sandboxImage } from '../hypervisor/workload/image/image.ts';
import { ensureSandboxImage } from '../hypervisor/workload/image/image.ts';
import { sandboxEnv } from '../hypervisor/sandboxes/env.ts';
import { waitUntilHealthy } from '../hypervisor/sandboxes/health-probe.ts';
import { allocatePort } from '../hypervisor/sandboxes/ports.ts';
import { sandboxEntry } from '../hypervisor/sandboxes/process-runtime.ts';

/**
 * The control plane's costs, measured in one run against baselines from the same run:
 * - podman start-to-healthy through the hypervisor (admin API call until it answers running) versus
 *   a raw `podman run` of the same image with the same arguments plus the same health polling;
 * - process-mode start-to-healthy through the hypervisor (and the bare process for reference);
 * - stop time through the hypervisor on both runtimes;
 * - the hypervisor's idle RSS (a real `node hypervisor/main.ts`).
 * Prints PASS/MISS per goal; exits non-zero only when something fails to run.
 */
const samples = 7;
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const p90 = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.ceil(values.length * 0.9) - 1] ?? Number.NaN;
const show = (values: number[]): string => `p50 ${median(values).toFixed(0)} ms, p90 ${p90(values).toFixed(0)} ms (n=${values.length}: ${values.map((v) => v.toFixed(0)).join(' ')})`;
const verdict = (pass: boolean): string => (pass ? 'PASS' : 'MISS');

async function timed(work: () => Promise<unknown>): Promise<number> {
  const began = performance.now();
  await work();
  return performance.now() - began;
}


async function hypervisorStart(target: TestHypervisor, user: string): Promise<number> {
  return timed(async () => {
    const answer = await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/start`);
    if (answer.status !== 200 || answer.body.status !== 'running') throw new Error(`start of ${user} failed: ${JSON.stringify(answer.body)}`);
  });
}

async function hypervisorStop(target: TestHypervisor, user: string): Promise<number> {
  return timed(async () => {
    const answer = await target.admin<SandboxView>('POST', `/admin/sandboxes/${user}/live/stop`);
    if (answer.status !== 200) throw new Error(`stop of ${user} failed: ${JSON.stringify(answer.body)}`);
  });
}

async function podmanFigures(image: string): Promise<{ raw: number[]; through: number[]; stop: number[] }> {
  const label = `choiros.bench=sandboxes-${uniqueUser('run')}`;
  const rawRoot = mkdtempSync(path.join(tmpdir(), 'choiros-bench-raw-'));
  const target = await startTestHypervisor({ SANDBOX_RUNTIME: 'podman', SANDBOX_CONTAINER_IMAGE: image, SANDBOX_IDLE_TIMEOUT_SECS: '0' });
  const raw: number[] = [];
  const through: number[] = [];
  const stop: number[] = [];
  try {
    // Warm-up (not counted): the first podman run after a pause and the first image lookup are slower.
    await podman(['rm', '--force', (await rawPodmanStart(image, label, rawRoot)).id]);
    await hypervisorStart(target, uniqueUser('warm'));
    for (let i = 0; i < samples; i += 1) {
      // Alternate the order so that neither side always runs on a warmer machine.
      const user = uniqueUser('hv');
      const pair = i % 2 === 0 ? [() => rawPodmanStart(image, label, rawRoot), () => hypervisorStart(target, user)] as const : [() => hypervisorStart(target, user), () => rawPodmanStart(image, label, rawRoot)] as const;
      for (const run of pair) {
        const result = await run();
        if (typeof result === 'number') through.push(result);
        else {
          raw.push(result.ms);
          await podman(['rm', '--force', '--time', '0', result.id]);
        }
      }
      stop.push(await hypervisorStop(target, user));
    }
  } finally {
    await target.close();
    const stray = (await podman(['ps', '--all', '--quiet', '--filter', `label=${label}`])).split('\n').filter(Boolean);
    if (stray.length) await podman(['rm', '--force', '--time', '0', ...stray]);
    const ours = (await podman(['ps', '--all', '--quiet', '--filter', `label=choiros.instance=${target.hypervisor.config.sandboxes.instanceId}`])).split('\n').filter(Boolean);
    if (ours.length) await podman(['rm', '--force', '--time', '0', ...ours]);
    rmSync(rawRoot, { recursive: true, force: true });
    removeDir(target.dir);
  }
  return { raw, through, stop };
}

/** The reference: `node hypervisor/workload/main.ts` spawned by hand with the same env, plus the same health polling. */
async function bareProcessStart(dataRoot: string): Promise<number> {
  const user = uniqueUser('bare');
  const dataDir = path.join(dataRoot, user, 'live');
  mkdirSync(dataDir, { recursive: true });
  const port = await allocatePort(new Set());
  const env = sandboxEnv({ key: { userId: user, role: 'live' }, port, dataDir });
  const began = performance.now();
  const child = spawn(process.execPath, [sandboxEntry], { env: { ...env }, stdio: 'ignore' });
  try {
    await waitUntilHealthy({ port, role: 'live', deadlineMs: 30_000 });
    return performance.now() - began;
  } finally {
    child.kill('SIGTERM');
  }
}

async function processFigures(): Promise<{ bare: number[]; through: number[]; stop: number[] }> {
  const bareRoot = mkdtempSync(path.join(tmpdir(), 'choiros-bench-bare-'));
  const target = await startTestHypervisor({ SANDBOX_RUNTIME: 'process', SANDBOX_IDLE_TIMEOUT_SECS: '0' });
  const bare: number[] = [];
  const through: number[] = [];
  const stop: number[] = [];
  try {
    await bareProcessStart(bareRoot);
    const warm = uniqueUser('warm');
    await hypervisorStart(target, warm);
    // The warm-up's stop lets Node write its compile cache, as any stopped sandbox would.
    await hypervisorStop(target, warm);
    for (let i = 0; i < samples * 2; i += 1) {
      const user = uniqueUser('proc');
      bare.push(await bareProcessStart(bareRoot));
      through.push(await hypervisorStart(target, user));
      stop.push(await hypervisorStop(target, user));
    }
  } finally {
    await target.close();
    removeDir(target.dir);
    rmSync(bareRoot, { recursive: true, force: true });
  }
  return { bare, through, stop };
}

/** RSS of a real hypervisor process after it has served a little and then sat idle. */
async function idleRssMiB(runtime: 'process' | 'podman', image: string): Promise<number> {
  const { dir, env } = hypervisorEnv({ SANDBOX_RUNTIME: runtime, SANDBOX_CONTAINER_IMAGE: image });
  const child = await spawnHypervisor(env);
  try {
    for (let i = 0; i < 20; i += 1) await child.client.sandboxes();
    await sleep(3_000);
    const status = readFileSync(`/proc/${child.child.pid}/status`, 'utf8');
    const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
    return kib / 1024;
  } finally {
    child.child.kill('SIGTERM');
    await child.exited;
    removeDir(dir);
  }
}

const image = await ensureSandboxImage();
console.log(`image ${image} (${sandboxImage}); ${samples} podman samples, ${samples * 2} process samples, each after one warm-up`);

const pods = await podmanFigures(image);
const ratio = median(pods.through) / median(pods.raw);
console.log(`podman start-to-healthy, raw podman run + health polling: ${show(pods.raw)}`);
console.log(`podman start-to-healthy, through the hypervisor:          ${show(pods.through)}`);
console.log(`  ratio hypervisor/raw (p50): ${ratio.toFixed(2)}  goal <= 1.2  ${verdict(ratio <= 1.2)}`);

const procs = await processFigures();
console.log(`process start-to-healthy, bare node process (no compile cache): ${show(procs.bare)}`);
console.log(`process start-to-healthy, through the hypervisor:            ${show(procs.through)}  goal p50 < 300 ms  ${verdict(median(procs.through) < 300)}`);

console.log(`stop, podman through the hypervisor:  ${show(pods.stop)}  goal p50 < 1000 ms  ${verdict(median(pods.stop) < 1000)}`);
console.log(`stop, process through the hypervisor: ${show(procs.stop)}  goal p50 < 1000 ms  ${verdict(median(procs.stop) < 1000)}`);

const rssProcess = await idleRssMiB('process', image);
const rssPodman = await idleRssMiB('podman', image);
console.log(`hypervisor idle RSS: ${rssProcess.toFixed(1)} MiB (process mode), ${rssPodman.toFixed(1)} MiB (podman mode)`);
