import type { HostAccess } from '../deploy/host-access.ts';

/**
 * The rollback rehearsal's baseline on a host whose hypervisor runs the process runtime: the same
 * sandbox program (the hypervisor's own Node and hypervisor/workload/main.ts from its Nix package,
 * with its compile cache) started by hand over SSH as the sandbox user with the contract's
 * environment, and polled to healthy every 10 ms as the hypervisor's readiness does. Timed on the
 * host by the Node that starts it, so SSH round trips are not in the figure. What raw-podman.ts is
 * for podman, with no hypervisor, routing or release bookkeeping involved.
 */
const starter = `
const { spawn } = await import('node:child_process');
const [node, entry, dir, port, cacheDir] = process.argv.slice(2);
// The hypervisor's preload (process-runtime.ts compileCachePreload): its compile cache, so both starts read the same cache.
const preload = '--import=data:text/javascript,' + encodeURIComponent("import { enableCompileCache } from 'node:module'; enableCompileCache(" + JSON.stringify(cacheDir) + ');');
const env = { PORT: port, DATABASE_URL: 'sqlite:' + dir + '/sandbox.db', CHOIROS_DATA_DIR: dir, CHOIR_SANDBOX_USER_ID: 'bench-raw', CHOIR_SANDBOX_ROLE: 'live', CHOIR_SANDBOX_ID: 'bench-raw-live' };
const began = performance.now();
const child = spawn(node, [preload, entry], { env, cwd: dir, uid: 1000, gid: 1000, stdio: 'ignore' });
let exited = null;
child.once('exit', (code, signal) => { exited = signal ?? 'exit code ' + code; });
for (;;) {
  if (exited !== null) { console.error('the sandbox exited before it became healthy (' + exited + ')'); process.exit(3); }
  if (performance.now() - began > 30000) { child.kill('SIGKILL'); console.error('no healthy answer on port ' + port + ' within 30 s'); process.exit(4); }
  const health = await fetch('http://127.0.0.1:' + port + '/health', { signal: AbortSignal.timeout(1000) }).then((r) => (r.ok ? r.json() : undefined), () => undefined);
  if (health?.status === 'healthy') break;
  await new Promise((resolve) => setTimeout(resolve, 10));
}
const ms = performance.now() - began;
child.kill('SIGTERM');
await new Promise((resolve) => (exited !== null ? resolve() : child.once('exit', resolve)));
console.log(JSON.stringify({ ms }));
`;

const script = `
pid=$(systemctl show -p MainPID --value choiros-hypervisor.service)
node=$(readlink /proc/$pid/exe)
main=$(tr '\\0' '\\n' < /proc/$pid/cmdline | grep '/hypervisor/main.ts$' | head -n 1)
entry=$(dirname "$main")/workload/main.ts
root=$(tr '\\0' '\\n' < /proc/$pid/environ | sed -n 's/^SANDBOX_DATA_ROOT=//p')
test -x "$node" && test -f "$entry" && test -d "$root" || { echo "cannot find the hypervisor's node ($node), sandbox entry ($entry) or data root ($root) from pid $pid" >&2; exit 2; }
work=$(mktemp -d /var/tmp/choiros-bench-raw-XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 0711 "$work"
mkdir "$work/data"
chown 1000:1000 "$work/data"
cat > "$work/start.mjs" <<'STARTER'
${starter}
STARTER
port=$(( 20000 + RANDOM % 10000 ))
"$node" "$work/start.mjs" "$node" "$entry" "$work/data" "$port" "$root/.compile-cache"
`;

/** One hand start of the sandbox on the host to healthy, in milliseconds (the host's own clock). */
export async function hostSandboxStart(access: HostAccess): Promise<number> {
  const run = await access.runScript('bench: sandbox started by hand to healthy', script);
  if (run.exitCode !== 0) throw new Error(`starting the sandbox by hand on the host failed (exit ${run.exitCode}):\n${run.output}`);
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  const { ms } = JSON.parse(last) as { ms: number };
  return ms;
}
