import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { startSandboxProcess } from '../hypervisor/sandbox/testing/sandbox-process.ts';

const sb = await startSandboxProcess({ env: { CHOIR_SANDBOX_USER_ID: 'u1', CHOIR_SANDBOX_ROLE: 'live', CHOIR_SANDBOX_ID: 'u1:live' } });
const cpu = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" "); return Number(process.env.FIELD === "u" ? f[11] : process.env.FIELD === "s" ? f[12] : Number(f[11]) + Number(f[12])) * 10_000; };
async function run(name: string, url: string, pid?: number) {
  await autocannon({ url, connections: 10, duration: 1 });
  const before = pid ? cpu(pid) : 0; const sbBefore = cpu(sb.child.pid!);
  const r = await autocannon({ url, connections: Number(process.env.CONNS ?? 10), duration: 4 });
  const n = r.requests.total;
  console.log(name, Math.round(n / 4), 'req/s', pid ? `proxy ${((cpu(pid) - before) / n).toFixed(1)} µs/req` : '', `sandbox ${((cpu(sb.child.pid!) - sbBefore) / n).toFixed(1)} µs/req`);
}
await run('direct', `${sb.url}/`);
for (const variant of process.argv.slice(2)) {
  const child = spawn(process.execPath, [...(process.env.NODEFLAGS ? process.env.NODEFLAGS.split(' ') : []), 'bench/pexp-proxy.tmp.ts', variant, String(sb.port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  await run(variant, `http://127.0.0.1:${port}/`, child.pid);
  child.kill();
}
await sb.stop();
