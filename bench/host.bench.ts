import { execa } from 'execa';
import { HypervisorHost } from '../fixtures/hypervisor-host.ts';
import { runBuiltProgram } from '../nix/run-built.ts';
import { maximumExposure, unitExposure } from '../hypervisor/nixos/exposure.ts';
import { evaluateModule } from '../hypervisor/nixos/module-eval.ts';
import { hypervisorPackage } from '../hypervisor/nixos/package.ts';
import { fromRoot } from '../hypervisor/paths.ts';

/**
 * Phase 3's figures on the local systemd host, each against a baseline from the same run:
 * - the unit's exposure (systemd-analyze security) against the same unit with its hardening removed;
 * - host boot to hypervisor healthy (a reboot, the service enabled) against boot to systemd running;
 * - `systemctl restart` to healthy against the same package started directly on this machine;
 * - the local Phase 3 gate's wall time (npx playwright test --project phase3), goal under 2 minutes.
 * Prints PASS/MISS per goal; exits non-zero only when something fails to run.
 */
const samples = 5;
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const show = (values: number[]): string => `p50 ${median(values).toFixed(0)} ms (n=${values.length}: ${values.map((v) => v.toFixed(0)).join(' ')})`;
const verdict = (pass: boolean): string => (pass ? 'PASS' : 'MISS');
async function timed(work: () => Promise<unknown>): Promise<number> {
  const began = performance.now();
  await work();
  return performance.now() - began;
}

const { unitText } = await evaluateModule({ adminTokenFile: '/run/secrets/admin-token' });
const hardened = await unitExposure(unitText);
const bare = await unitExposure(unitText.split('\n').filter((line) => !/^(Protect|Private|Restrict|SystemCall|Capability|AmbientCapabilities|NoNewPrivileges|ProcSubset|LockPersonality|RemoveIPC|KeyringMode|UMask|DevicePolicy)/.test(line)).join('\n'));
console.log(`exposure: ${hardened.exposure} ${hardened.rating} (unhardened baseline ${bare.exposure} ${bare.rating}) goal <= ${maximumExposure}: ${verdict(hardened.exposure <= maximumExposure)}`);

const packageBuild = await hypervisorPackage();
const host = await HypervisorHost.boot();
try {
  const closure = await host.buildClosure(packageBuild.storePath);
  await host.runbook('install', closure.outPath);
  await host.waitHealthy();

  const bootToRunning: number[] = [];
  const bootToHealthy: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    const began = performance.now();
    await host.machine.reboot();
    bootToRunning.push(performance.now() - began);
    await host.waitHealthy();
    bootToHealthy.push(performance.now() - began);
  }
  console.log(`host reboot to systemd running (baseline): ${show(bootToRunning)}`);
  console.log(`host reboot to hypervisor healthy: ${show(bootToHealthy)}; ratio ${(median(bootToHealthy) / median(bootToRunning)).toFixed(2)}x`);

  const restart: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    restart.push(await timed(async () => {
      await host.machine.exec(['systemctl', 'restart', 'choiros-hypervisor.service']);
      await host.waitHealthy();
    }));
    direct.push(await timed(() => runBuiltProgram(packageBuild.storePath, 'choiros-hypervisor')));
  }
  console.log(`same package started directly to healthy (baseline): ${show(direct)}`);
  console.log(`systemctl restart to healthy: ${show(restart)}; ratio ${(median(restart) / median(direct)).toFixed(2)}x`);
} finally {
  await host.stop();
}

let gateExit: number | undefined;
const gate = await timed(async () => {
  gateExit = (await execa('npx', ['playwright', 'test', '--project=phase3', '--reporter=line'], { cwd: fromRoot(), reject: false, env: { ...process.env, GATE_REPORTS_DIR: '/tmp/choiros-bench-host-reports' } })).exitCode;
});
console.log(`local Phase 3 gate wall time (npx playwright test --project phase3, ${gateExit === 0 ? 'passed' : `FAILED, exit ${gateExit}`}): ${(gate / 1000).toFixed(1)} s, goal < 120 s: ${verdict(gateExit === 0 && gate < 120_000)}`);
if (gateExit !== 0) process.exitCode = 1;
