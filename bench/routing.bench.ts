import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hypervisorEnv, removeDir, spawnHypervisor, uniqueUser, type ChildHypervisor } from '../fixtures/test-hypervisor.ts';
import { stopAllSandboxes } from '../fixtures/stop-all-sandboxes.ts';
import { podman } from '../hypervisor/podman/podman.ts';
import { rawPodmanStart } from './raw-podman.ts';
import { ensureSandboxImage } from '../hypervisor/workload/image/image.ts';
import { createUserSession, ReconnectingSocket, startHttpLoop, UserClient } from '../hypervisor/routing/testing/user-traffic.ts';

/**
 * Route swap and rollback, on podman, through a real `node hypervisor/main.ts`:
 * - swap latency under load (the swap call until the main route answers from the new target),
 *   p50/p99, and failed requests of a continuous HTTP loop (goal: 0);
 * - rollback time, call until main answers from the known-good release: warm standby (goal < 100 ms)
 *   and cold on podman (goal < 1.5 s), next to a raw `podman run` to healthy measured in the same run.
 */
const swaps = 40;
const rollbackSamples = 8;
const drainSamples = 6;

const quantile = (values: number[], q: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(values.length * q) - 1)] ?? Number.NaN;
const show = (values: number[]): string => `p50 ${quantile(values, 0.5).toFixed(1)} ms, p99 ${quantile(values, 0.99).toFixed(1)} ms, max ${Math.max(...values).toFixed(1)} ms (n=${values.length})`;
const verdict = (pass: boolean): string => (pass ? 'PASS' : 'MISS');

const roles = ['live', 'dev'] as const;

/**
 * Polls the main route until it answers from the slot that holds `marker` (a run only that slot
 * has). `pauseMs` between polls keeps a long wait (a cold start) from loading the two cores.
 */
async function servedBy(client: UserClient, marker: string, began: number, pauseMs = 0): Promise<number> {
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    if ((await client.get(`/conductor/runs/${marker}`)).status === 200) return performance.now() - began;
    if (pauseMs) await sleep(pauseMs);
  }
  throw new Error(`main never answered from the slot holding run ${marker}`);
}


async function swapUnderLoad(hv: ChildHypervisor, databaseUrl: string): Promise<{ latency: number[]; api: number[]; server: number[]; failed: number; ok: number; baseline: number[]; during: number[]; closes: number }> {
  const { userId, cookie } = createUserSession(databaseUrl);
  const client = new UserClient(hv.url, cookie);
  const probe = new UserClient(hv.url, cookie);
  try {
    for (const role of roles) await hv.client.start(userId, role);
    const markers = { live: (await client.completedRun('', 'marker')).runId, dev: (await client.completedRun('/dev', 'marker')).runId };
    const baselineLoop = startHttpLoop(client, '/conductor/runs?limit=1', { workers: 2, maxMs: 3_000 });
    await sleep(3_000);
    const baseline = await baselineLoop.stop();
    const loop = startHttpLoop(client, '/conductor/runs?limit=1', { workers: 2, maxMs: 120_000 });
    const socket = new ReconnectingSocket(`${hv.url.replace(/^http/, 'ws')}/ws`, cookie, swaps + 5);
    await socket.greeted(1);
    const latency: number[] = [];
    const api: number[] = [];
    const server: number[] = [];
    let main: 'live' | 'dev' = 'live';
    for (let i = 0; i < swaps; i += 1) {
      const next: 'live' | 'dev' = main === 'live' ? 'dev' : 'live';
      const began = performance.now();
      const call = hv.client.swap(userId, `bench swap ${i}`).then((answer) => ({ answer, ms: performance.now() - began }));
      latency.push(await servedBy(probe, markers[next], began));
      const { answer, ms } = await call;
      api.push(ms);
      server.push(answer.serving_after_ms ?? Number.NaN);
      main = next;
      await sleep(50);
    }
    const during = await loop.stop();
    const sockets = await socket.stop();
    return { latency, api, server, failed: during.failed, ok: during.ok, baseline: baseline.latencies, during: during.latencies, closes: sockets.closes.filter((c) => c.code === 1012).length };
  } finally {
    await client.close();
    await probe.close();
  }
}

/**
 * A swap drains its old target: each swap starts while a 300 ms upload to the old target is 60 ms
 * in, so its drain (duration minus serving_after_ms) should wait out the rest of that upload.
 * (Moved here from swap-under-traffic.test.ts, where it was a timed assertion.)
 */
async function drainWaits(hv: ChildHypervisor, databaseUrl: string): Promise<number[]> {
  const { userId, cookie } = createUserSession(databaseUrl);
  const client = new UserClient(hv.url, cookie);
  try {
    for (const role of roles) await hv.client.start(userId, role);
    const waits: number[] = [];
    const uploads: Array<Promise<unknown>> = [];
    for (let i = 0; i < drainSamples; i += 1) {
      uploads.push(client.slowPost('/conductor/execute', { objective: `in flight during swap ${i}`, desktop_id: 'bench' }, 300));
      await sleep(60);
      const answer = await hv.client.swap(userId, `bench drain ${i}`);
      waits.push((answer.duration_ms ?? 0) - (answer.serving_after_ms ?? 0));
    }
    await Promise.all(uploads);
    return waits;
  } finally {
    await client.close();
  }
}

async function rollbackTimes(hv: ChildHypervisor, databaseUrl: string, image: string): Promise<{ warm: number[]; warmServer: number[]; cold: number[]; coldServer: number[]; coldStart: number[]; raw: number[] }> {
  const { userId, cookie } = createUserSession(databaseUrl);
  const client = new UserClient(hv.url, cookie);
  const label = `choiros.bench=routing-${uniqueUser('raw')}`;
  const rawRoot = mkdtempSync(path.join(tmpdir(), 'choiros-bench-raw-'));
  try {
    // Two releases of the same image with different config: the known-good one and the next one.
    const known = await hv.client.createRelease({ runtime: 'podman', image, note: 'bench known-good' });
    const next = await hv.client.createRelease({ runtime: 'podman', image, config: { SANDBOX_CONDUCTOR_STEP_MS: '100' }, note: 'bench next' });
    await hv.client.deploy(userId, known.id);
    await hv.client.promote(userId);
    const knownMarker = (await client.completedRun('', 'written on the known-good release')).runId;
    await hv.client.deploy(userId, next.id);
    await hv.client.promote(userId);

    const rollback = async (pauseMs: number): Promise<{ client: number; server: number; mode: string }> => {
      const began = performance.now();
      const call = hv.client.rollback(userId, 'bench');
      const served = await servedBy(client, knownMarker, began, pauseMs);
      const answer = await call;
      return { client: served, server: answer.serving_after_ms ?? Number.NaN, mode: answer.mode };
    };
    const warm: number[] = [];
    const warmServer: number[] = [];
    const cold: number[] = [];
    const coldServer: number[] = [];
    const coldStart: number[] = [];
    const raw: number[] = [];
    // Warm: the standby runs the known-good release; swap forward again between samples.
    for (let i = 0; i < rollbackSamples; i += 1) {
      const result = await rollback(0);
      if (result.mode !== 'warm') throw new Error(`expected a warm rollback, got ${result.mode}`);
      warm.push(result.client);
      warmServer.push(result.server);
      await hv.client.swap(userId, 'bench: forward again');
    }
    // Cold: the standby is stopped first; raw podman starts interleave so both see the same machine.
    await rawPodmanStart(image, label, rawRoot);
    for (let i = 0; i < rollbackSamples; i += 1) {
      const standby = (await hv.client.pointers(userId)).dev;
      await hv.client.stop(userId, standby);
      const logsFrom = hv.logs.length;
      const result = await rollback(5);
      // The sandbox manager's own start-to-healthy inside this rollback (its sandbox.ready line).
      coldStart.push(Number((await hv.waitForLog((line) => line.event === 'sandbox.ready', 10_000, logsFrom)).duration_ms));
      if (result.mode !== 'cold') throw new Error(`expected a cold rollback, got ${result.mode}`);
      cold.push(result.client);
      coldServer.push(result.server);
      raw.push((await rawPodmanStart(image, label, rawRoot)).ms);
      await hv.client.swap(userId, 'bench: forward again');
    }
    return { warm, warmServer, cold, coldServer, coldStart, raw };
  } finally {
    await client.close();
    const stray = (await podman(['ps', '--all', '--quiet', '--filter', `label=${label}`])).split('\n').filter(Boolean);
    if (stray.length) await podman(['rm', '--force', '--time', '0', ...stray]);
    rmSync(rawRoot, { recursive: true, force: true });
  }
}

const image = await ensureSandboxImage();
const { dir, env } = hypervisorEnv({ SANDBOX_RUNTIME: 'podman', SANDBOX_CONTAINER_IMAGE: image, SANDBOX_IDLE_TIMEOUT_SECS: '0', SANDBOX_STOP_TIMEOUT_SECS: '2' });
const hv = await spawnHypervisor(env);
const instanceId = hv.logs.find((line) => line.event === 'hypervisor.listening')?.instance;
try {
  console.log(`image ${image}; hypervisor pid ${hv.child.pid} on podman; ${swaps} swaps under load, ${rollbackSamples} warm and ${rollbackSamples} cold rollbacks`);
  const swap = await swapUnderLoad(hv, env.HYPERVISOR_DATABASE_URL as string);
  console.log(`swap latency, call -> main answers from the new target: ${show(swap.latency)}`);
  console.log(`swap API round trip (health check, switch, drain, record):  ${show(swap.api)}; server side, call -> switched: ${show(swap.server)}`);
  console.log(`main route request latency without swaps: ${show(swap.baseline)}; during swaps: ${show(swap.during)}`);
  console.log(`failed requests during swaps: ${swap.failed} of ${swap.ok + swap.failed}; WebSocket clean closes (1012): ${swap.closes} of ${swaps}  ${verdict(swap.failed === 0)} (goal: 0 failed)`);

  const drain = await drainWaits(hv, env.HYPERVISOR_DATABASE_URL as string);
  console.log(`swap drain with a 300 ms upload in flight on the old target (about 240 ms left): ${show(drain)}  ${verdict(Math.min(...drain) > 100)} (goal: every drain > 100 ms, it waits for the request)`);

  const rollback = await rollbackTimes(hv, env.HYPERVISOR_DATABASE_URL as string, image);
  const warmP50 = quantile(rollback.warm, 0.5);
  const coldP50 = quantile(rollback.cold, 0.5);
  const rawP50 = quantile(rollback.raw, 0.5);
  console.log(`rollback, warm standby, call -> main answers from known-good: ${show(rollback.warm)} (server: switched after ${show(rollback.warmServer)})  ${verdict(warmP50 < 100)} (goal: p50 < 100 ms)`);
  console.log(`rollback, cold on podman, call -> main answers from known-good: ${show(rollback.cold)} (server: ${show(rollback.coldServer)})  ${verdict(coldP50 < 1500)} (goal: p50 < 1.5 s)`);
  const routingShare = rollback.coldServer.map((server, i) => server - (rollback.coldStart[i] ?? Number.NaN));
  console.log(`  of which the sandbox manager's start to healthy (its sandbox.ready duration_ms): ${show(rollback.coldStart)}; the rest (routing: records, health gate, switch): ${show(routingShare)}`);
  console.log(`raw podman run -> healthy, same image, same run: ${show(rollback.raw)}; cold rollback / raw start ${(coldP50 / rawP50).toFixed(2)}`);
  console.log(
    JSON.stringify({
      event: 'bench.routing',
      swap_p50_ms: quantile(swap.latency, 0.5),
      swap_p99_ms: quantile(swap.latency, 0.99),
      swap_failed_requests: swap.failed,
      swap_requests: swap.ok + swap.failed,
      rollback_warm_p50_ms: warmP50,
      rollback_cold_p50_ms: coldP50,
      rollback_cold_manager_start_p50_ms: quantile(rollback.coldStart, 0.5),
      raw_podman_start_p50_ms: rawP50,
    }),
  );
} finally {
  await stopAllSandboxes(hv.admin);
  hv.child.kill('SIGTERM');
  await hv.exited;
  if (typeof instanceId === 'string') {
    const ours = (await podman(['ps', '--all', '--quiet', '--filter', `label=choiros.instance=${instanceId}`])).split('\n').filter(Boolean);
    if (ours.length) await podman(['rm', '--force', '--time', '0', ...ours]);
  }
  removeDir(dir);
}
