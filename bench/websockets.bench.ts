import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { WebSocket } from 'ws';
import { hypervisorEnv, removeDir, spawnHypervisor, type ChildHypervisor } from '../fixtures/test-hypervisor.ts';
import { registerWithPasskey } from '../hypervisor/auth/testing/auth-client.ts';
import { createSoftwarePasskey } from '../hypervisor/auth/testing/software-passkey.ts';

/**
 * What an idle relayed WebSocket costs the hypervisor in memory, and the per-user cap at work:
 * - RSS growth of the hypervisor per idle WebSocket relayed to one process sandbox (each holds a
 *   client socket and a sandbox socket), against the baseline of the same number opened straight to
 *   the sandbox (RSS growth of the sandbox per WebSocket), in the same run;
 * - one WebSocket past HYPERVISOR_WEBSOCKETS_PER_USER is closed with 1008.
 * Exits non-zero only when something fails to run.
 */
const connections = 400;
const settleMs = 2_000;

const rssKiB = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, settleMs));

async function openMany(url: string, headers: Record<string, string>, count: number): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  // In batches, so the handshakes do not all queue at once on two cores.
  for (let i = 0; i < count; i += 50) {
    const batch = Array.from({ length: Math.min(50, count - i) }, () => new WebSocket(url, { headers }));
    await Promise.all(batch.map((ws) => once(ws, 'open')));
    sockets.push(...batch);
  }
  return sockets;
}

async function closeAll(sockets: WebSocket[]): Promise<void> {
  await Promise.all(sockets.map(async (ws) => {
    if (ws.readyState === WebSocket.CLOSED) return;
    ws.close();
    await once(ws, 'close');
  }));
}

async function liveSandbox(hypervisor: ChildHypervisor, userId: string): Promise<{ port: number; pid: number }> {
  const listed = await hypervisor.admin<Array<{ user_id: string; role: string; status: string; port: number; pid: number }>>('GET', '/admin/sandboxes');
  const live = listed.body.find((s) => s.user_id === userId && s.role === 'live' && s.status === 'running');
  if (!live) throw new Error(`the live sandbox of ${userId} is not running: ${JSON.stringify(listed.body)}`);
  return live;
}

const perUserCap = connections + 10;
const { dir, env } = hypervisorEnv({ SANDBOX_RUNTIME: 'process', SANDBOX_IDLE_TIMEOUT_SECS: '0', HYPERVISOR_WEBSOCKETS_PER_USER: String(perUserCap), HYPERVISOR_CONNECTIONS_PER_CLIENT: String(perUserCap * 2) });
const hypervisor = await spawnHypervisor(env);
let userId = '';
const held: WebSocket[] = [];
try {
  const origin = `http://localhost:${hypervisor.port}`;
  const registered = await registerWithPasskey({ url: hypervisor.url, origin }, { username: 'wsbench', passkey: createSoftwarePasskey({ origin, rpId: 'localhost' }) });
  if (registered.status !== 200 || !registered.session) throw new Error(`registration failed: ${JSON.stringify(registered.body)}`);
  userId = String(registered.body.user_id);
  const session = { cookie: `choiros_session=${registered.session}`, origin };
  const first = await request(`${hypervisor.url}/`, { headers: session });
  await first.body.dump();
  const sandbox = await liveSandbox(hypervisor, userId);
  const hypervisorPid = hypervisor.child.pid as number;
  console.log(`${connections} idle WebSockets to one process sandbox; RSS read ${settleMs} ms after opening; hypervisor pid ${hypervisorPid}, sandbox pid ${sandbox.pid}`);

  // Baseline: straight to the sandbox, what one WebSocket costs a plain ws server.
  const sandboxBefore = rssKiB(sandbox.pid);
  const direct = await openMany(`ws://127.0.0.1:${sandbox.port}/ws`, {}, connections);
  await settle();
  const sandboxPerSocket = (rssKiB(sandbox.pid) - sandboxBefore) / connections;
  await closeAll(direct);
  await settle();

  const hypervisorBefore = rssKiB(hypervisorPid);
  const sandboxBeforeRelay = rssKiB(sandbox.pid);
  held.push(...(await openMany(`${hypervisor.url.replace(/^http/, 'ws')}/ws`, session, connections)));
  await settle();
  const hypervisorPerSocket = (rssKiB(hypervisorPid) - hypervisorBefore) / connections;
  const sandboxPerRelayed = (rssKiB(sandbox.pid) - sandboxBeforeRelay) / connections;
  console.log(`memory per idle WebSocket: hypervisor ${hypervisorPerSocket.toFixed(1)} KiB per relayed connection (client + sandbox socket); baseline, the sandbox's own per WebSocket: ${sandboxPerSocket.toFixed(1)} KiB direct, ${sandboxPerRelayed.toFixed(1)} KiB relayed; ratio hypervisor/sandbox ${(hypervisorPerSocket / sandboxPerSocket).toFixed(2)}`);
  console.log(`  at the default cap of 10000 WebSockets (HYPERVISOR_WEBSOCKETS_TOTAL) that is about ${((hypervisorPerSocket * 10_000) / 1024).toFixed(0)} MiB in the hypervisor`);

  held.push(...(await openMany(`${hypervisor.url.replace(/^http/, 'ws')}/ws`, session, perUserCap - connections)));
  const over = new WebSocket(`${hypervisor.url.replace(/^http/, 'ws')}/ws`, { headers: session });
  const [code, reason] = (await once(over, 'close')) as [number, Buffer];
  // The log line comes through the hypervisor's stdout pipe, which can trail the close it sent: wait for it (bounded).
  const capped = await hypervisor.waitForLog((line) => line.event === 'proxy.websocket_limit', 5_000).then(
    () => true,
    () => false,
  );
  console.log(`WebSocket ${perUserCap + 1} of one user (cap ${perUserCap}): closed with ${code} "${reason.toString()}"; logged proxy.websocket_limit: ${capped}  ${code === 1008 && capped ? 'PASS' : 'MISS'}`);
  console.log(JSON.stringify({ event: 'bench.websockets', connections, hypervisor_kib_per_websocket: hypervisorPerSocket, sandbox_kib_per_websocket: sandboxPerSocket, cap_close_code: code }));
} finally {
  await closeAll(held);
  if (userId) await hypervisor.admin('POST', `/admin/sandboxes/${userId}/live/stop`);
  hypervisor.child.kill('SIGTERM');
  await hypervisor.exited;
  removeDir(dir);
}
