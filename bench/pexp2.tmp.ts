import { spawn, execFile } from 'node:child_process';
import autocannon from 'autocannon';
import { startSandboxProcess } from '../hypervisor/sandbox/testing/sandbox-process.ts';
const sb = await startSandboxProcess({ env: { CHOIR_SANDBOX_USER_ID: 'u1', CHOIR_SANDBOX_ROLE: 'live', CHOIR_SANDBOX_ID: 'u1:live' } });
for (const variant of process.argv.slice(2)) {
  const child = spawn(process.execPath, ['bench/pexp-proxy.tmp.ts', variant, String(sb.port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  await autocannon({ url: `http://127.0.0.1:${port}/`, connections: 10, duration: 1 });
  const strace = execFile('strace', ['-c', '-f', '-p', String(child.pid)], (_e, _o, stderr) => console.log(variant, '\n', stderr.split('\n').slice(0, 16).join('\n')));
  await new Promise((r) => setTimeout(r, 500));
  const r = await autocannon({ url: `http://127.0.0.1:${port}/`, connections: 10, amount: 5000 });
  console.log(variant, 'requests', r.requests.total);
  strace.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 500));
  child.kill();
}
await sb.stop();
