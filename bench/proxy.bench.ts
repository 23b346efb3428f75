import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { request } from 'undici';
import { WebSocket } from 'ws';
import { hypervisorEnv, removeDir, spawnHypervisor, type ChildHypervisor } from '../fixtures/test-hypervisor.ts';
import { registerWithPasskey } from '../hypervisor/auth/testing/auth-client.ts';
import { createSoftwarePasskey } from '../hypervisor/auth/testing/software-passkey.ts';
import { fromRoot } from '../hypervisor/paths.ts';
import { requireNginx, startNginx, type Nginx } from './nginx.ts';

/**
 * The proxy's cost, measured in one run against the same sandbox (process runtime):
 * - HTTP GET of the desktop page with autocannon, straight to the sandbox, through the hypervisor
 *   (session cookie), through the Node + undici floor (bench/node-relay-floor.ts: the same stack
 *   with none of the hypervisor's work) and through nginx (Debian's, one worker, keep-alive
 *   upstream), same load: throughput at full speed (10 and 64 connections; goal: hypervisor >= 0.8x
 *   nginx), and added p50/p99 latency versus direct at a moderate fixed rate (2000 req/s over 10
 *   connections; goal: added p99 <= 2 ms); with the CPU time each proxy process spends per request;
 * - WebSocket round trip ({type:"ping"} -> pong) straight and through the hypervisor (goal: added
 *   p50 <= 0.3 ms), with nginx alongside for reference.
 * Every load runs in rounds that take the targets in turn, so a passing disturbance on this shared
 * machine lands on all of them alike; each figure pools the samples of all rounds.
 * Prints PASS/MISS per goal; exits non-zero only when something fails to run.
 */
/** Throughput runs go as fast as the target answers; the latency run offers the same moderate rate to each. */
const loads = [
  { label: 'max rate', connections: 10, seconds: 3, rate: undefined },
  { label: 'max rate', connections: 64, seconds: 3, rate: undefined },
  { label: 'moderate', connections: 10, seconds: 5, rate: 2_000 },
] as const;
const rounds = 3;
const warmupSeconds = 1;
const wsWarmup = 300;
const wsSamples = 3_000;

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))] ?? Number.NaN;
const verdict = (pass: boolean): string => (pass ? 'PASS' : 'MISS');
const ms = (value: number): string => `${value.toFixed(2)} ms`;

interface LoadFigures {
  requestsPerSec: number;
  p50: number;
  p99: number;
  samples: number;
  /** CPU time the proxy process spent per request (user + system), when there is a proxy. */
  proxyCpuMicros?: number;
}

/** What the rounds of one target under one load add up to. */
interface Pooled {
  requests: number;
  seconds: number;
  latencies: number[];
  cpuMicros: number;
}

function figuresOf(pooled: Pooled, hasProxy: boolean): LoadFigures {
  const sorted = pooled.latencies.sort((a, b) => a - b);
  return {
    requestsPerSec: pooled.requests / pooled.seconds,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    samples: sorted.length,
    ...(hasProxy ? { proxyCpuMicros: pooled.cpuMicros / pooled.requests } : {}),
  };
}

/** User + system CPU time of a process so far, in microseconds (from /proc, 10 ms ticks). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** One autocannon run; latencies come from its per-response timings (its histogram only keeps whole ms). */
function load(url: string, headers: Record<string, string>, connections: number, seconds: number, rate?: number): Promise<{ requests: number; latencies: number[] }> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const options = { url, connections, duration: seconds, headers, ...(rate ? { overallRate: rate } : {}) };
    const instance = autocannon(options, (error: unknown, result: autocannon.Result) => {
      if (error) return reject(error instanceof Error ? error : new Error(String(error)));
      if (result.non2xx || result.errors || result.timeouts) {
        return reject(new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors (${firstError}), ${result.timeouts} timeouts`));
      }
      if (result.requests.total === 0) return reject(new Error(`${url}: no request was answered in ${seconds} s`));
      resolve({ requests: result.requests.total, latencies });
    });
    instance.on('response', (_client, _status, _bytes, responseTime) => void latencies.push(responseTime));
    let firstError = '';
    instance.on('reqError', (error: Error) => (firstError ||= error.message));
  });
}

/** The Node + undici floor (bench/node-relay-floor.ts) in front of the sandbox, as a child process. */
async function startFloor(upstreamPort: number): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [fromRoot('bench', 'node-relay-floor.ts'), String(upstreamPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const line = await Promise.race([
    once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), 'line') as Promise<[string]>,
    once(child, 'exit').then(([code]) => Promise.reject(new Error(`the Node + undici floor exited with ${String(code)}: ${stderr}`))),
  ]);
  const { port } = JSON.parse(line[0]) as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** Sequential application-level pings over one WebSocket: {type:"ping"} -> {type:"pong"} round trips. */
async function webSocketRoundTrips(url: string, headers: Record<string, string>): Promise<{ p50: number; p99: number }> {
  const socket = new WebSocket(url, { headers, perMessageDeflate: false });
  await once(socket, 'message');
  const ping = JSON.stringify({ type: 'ping' });
  const roundTrip = (): Promise<number> =>
    new Promise((resolve) => {
      const began = performance.now();
      socket.once('message', () => resolve(performance.now() - began));
      socket.send(ping);
    });
  for (let i = 0; i < wsWarmup; i += 1) await roundTrip();
  const times: number[] = [];
  for (let i = 0; i < wsSamples; i += 1) times.push(await roundTrip());
  socket.close();
  times.sort((a, b) => a - b);
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99) };
}

async function sandboxPortOf(hypervisor: ChildHypervisor, userId: string): Promise<number> {
  const listed = await hypervisor.admin<{ user_id: string; role: string; port: number; status: string }[]>('GET', '/admin/sandboxes');
  const live = listed.body.find((s) => s.user_id === userId && s.role === 'live' && s.status === 'running');
  if (!live) throw new Error(`the live sandbox of ${userId} is not running: ${JSON.stringify(listed.body)}`);
  return live.port;
}

// Before anything starts: a missing baseline is said plainly, and nothing is left running.
requireNginx();
const { dir, env } = hypervisorEnv({ SANDBOX_RUNTIME: 'process', SANDBOX_IDLE_TIMEOUT_SECS: '0' });
const hypervisor = await spawnHypervisor(env);
let nginx: Nginx | undefined;
let floor: Awaited<ReturnType<typeof startFloor>> | undefined;
let userId = '';
try {
  const origin = `http://localhost:${hypervisor.port}`;
  const registered = await registerWithPasskey({ url: hypervisor.url, origin }, { username: 'bench', passkey: createSoftwarePasskey({ origin, rpId: 'localhost' }) });
  if (registered.status !== 200 || !registered.session) throw new Error(`registration failed: ${JSON.stringify(registered.body)}`);
  userId = String(registered.body.user_id);
  const session = { cookie: `choiros_session=${registered.session}` };
  const first = await request(`${hypervisor.url}/`, { headers: session });
  await first.body.dump();
  if (first.statusCode !== 200) throw new Error(`GET / through the hypervisor answered ${first.statusCode}`);
  const sandboxPort = await sandboxPortOf(hypervisor, userId);
  nginx = await startNginx(sandboxPort);
  floor = await startFloor(sandboxPort);

  const targets = [
    { name: 'direct', url: `http://127.0.0.1:${sandboxPort}/`, headers: {}, proxyPid: undefined },
    { name: 'hypervisor', url: `${hypervisor.url}/`, headers: session, proxyPid: hypervisor.child.pid },
    { name: 'node floor', url: `${floor.url}/`, headers: {}, proxyPid: floor.pid },
    { name: 'nginx', url: `${nginx.url}/`, headers: {}, proxyPid: nginx.workerPid },
  ] as const;
  type TargetName = (typeof targets)[number]['name'];
  console.log(
    `GET / (the desktop page) of one process-runtime sandbox; autocannon in this process (node ${process.version}); hypervisor, Node + undici floor and sandbox as child processes; nginx with 1 worker; ${rounds} rounds per load, targets in turn`,
  );
  for (const target of targets) await load(target.url, target.headers, 10, warmupSeconds);

  const results: Array<Record<TargetName, LoadFigures>> = [];
  for (const { connections, seconds, rate } of loads) {
    const offered = rate ? `${rate} req/s offered` : 'max rate';
    const pooled = new Map<TargetName, Pooled>(targets.map((t) => [t.name, { requests: 0, seconds: 0, latencies: [], cpuMicros: 0 }]));
    console.log(`  ${offered}, ${connections} conns: ${rounds} rounds of ${seconds} s per target...`);
    for (let round = 1; round <= rounds; round += 1) {
      for (const target of targets) {
        const cpuBefore = target.proxyPid ? cpuMicros(target.proxyPid) : 0;
        const { requests, latencies } = await load(target.url, target.headers, connections, seconds, rate);
        const sum = pooled.get(target.name)!;
        sum.requests += requests;
        sum.seconds += seconds;
        for (const latency of latencies) sum.latencies.push(latency);
        if (target.proxyPid) sum.cpuMicros += cpuMicros(target.proxyPid) - cpuBefore;
      }
    }
    const run = {} as Record<TargetName, LoadFigures>;
    for (const target of targets) {
      const figures = figuresOf(pooled.get(target.name)!, target.proxyPid !== undefined);
      run[target.name] = figures;
      const cpu = figures.proxyCpuMicros === undefined ? '' : `  proxy CPU ${figures.proxyCpuMicros.toFixed(0)} µs/request`;
      console.log(
        `  ${offered.padEnd(17)} ${String(connections).padStart(2)} conns  ${target.name.padEnd(10)} ${figures.requestsPerSec.toFixed(0).padStart(6)} req/s  p50 ${ms(figures.p50)}  p99 ${ms(figures.p99)}  (n=${figures.samples})${cpu}`,
      );
    }
    results.push(run);
  }

  loads.forEach(({ label, connections }, index) => {
    if (label !== 'max rate') return;
    const r = results[index]!;
    const ratio = r.hypervisor.requestsPerSec / r.nginx.requestsPerSec;
    const rate = (name: TargetName): number => r[name].requestsPerSec;
    console.log(
      `throughput hypervisor/nginx at ${connections} connections: ${ratio.toFixed(2)}x (hypervisor/direct ${(rate('hypervisor') / rate('direct')).toFixed(2)}x, nginx/direct ${(rate('nginx') / rate('direct')).toFixed(2)}x)  goal >= 0.8x  ${verdict(ratio >= 0.8)}`,
    );
    console.log(`  of which the stack: Node + undici floor/nginx ${(rate('node floor') / rate('nginx')).toFixed(2)}x; the hypervisor's own work: hypervisor/floor ${(rate('hypervisor') / rate('node floor')).toFixed(2)}x`);
  });
  const moderate = results[loads.findIndex((l) => l.label === 'moderate')]!;
  const addedP50 = moderate.hypervisor.p50 - moderate.direct.p50;
  const addedP99 = moderate.hypervisor.p99 - moderate.direct.p99;
  console.log(`added latency through the hypervisor at 2000 req/s over 10 connections: p50 +${ms(addedP50)}, p99 +${ms(addedP99)} (floor: p50 +${ms(moderate['node floor'].p50 - moderate.direct.p50)}, p99 +${ms(moderate['node floor'].p99 - moderate.direct.p99)}; nginx: p50 +${ms(moderate.nginx.p50 - moderate.direct.p50)}, p99 +${ms(moderate.nginx.p99 - moderate.direct.p99)})  goal p99 <= 2 ms  ${verdict(addedP99 <= 2)}`);

  const direct = await webSocketRoundTrips(`ws://127.0.0.1:${sandboxPort}/ws`, {});
  const through = await webSocketRoundTrips(`${hypervisor.url.replace(/^http/, 'ws')}/ws`, { ...session, origin });
  const viaNginx = await webSocketRoundTrips(`${nginx.url.replace(/^http/, 'ws')}/ws`, {});
  console.log(`WebSocket round trip (${wsSamples} sequential pings after ${wsWarmup} warm-up): direct p50 ${ms(direct.p50)} p99 ${ms(direct.p99)}; hypervisor p50 ${ms(through.p50)} p99 ${ms(through.p99)}; nginx p50 ${ms(viaNginx.p50)} p99 ${ms(viaNginx.p99)}`);
  const addedWs = through.p50 - direct.p50;
  console.log(`added WebSocket round trip through the hypervisor: p50 +${ms(addedWs)} (nginx +${ms(viaNginx.p50 - direct.p50)})  goal p50 <= 0.3 ms  ${verdict(addedWs <= 0.3)}`);
} finally {
  await nginx?.stop();
  await floor?.stop();
  if (userId) {
    await hypervisor.admin('POST', `/admin/sandboxes/${userId}/live/stop`);
  }
  hypervisor.child.kill('SIGTERM');
  await hypervisor.exited;
  removeDir(dir);
}
