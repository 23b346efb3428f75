import { execa } from 'execa';
import { buildTargetGeneration, runDeploy } from '../deploy/cli.ts';
import { CommandTranscript } from '../deploy/command-transcript.ts';
import { buildGeneration } from '../deploy/generation.ts';
import { waitForHealth } from '../deploy/health.ts';
import { readDeploySection } from '../gate-runner/deploy-section.ts';
import { DescriptionFields } from '../gate-runner/description-fields.ts';
import { bootDeployTarget } from '../fixtures/deploy-target.ts';
import { buildFlakeOutput } from '../nix/build.ts';

/**
 * Phase 4 convergence on the local systemd host (standing in for the EC2 instance), against floors
 * measured in the same run: one SSH round trip with the deploy's options (every deploy step pays
 * it), and `systemctl restart` of the hypervisor to healthy (what activation cannot beat).
 * First converge, no-op converge, rollback to healthy, reboot to healthy.
 */
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const show = (values: number[]): string => `p50 ${median(values).toFixed(0)} ms (n=${values.length}: ${values.map((v) => v.toFixed(0)).join(' ')})`;

const target = await bootDeployTarget({ name: 'bench-converge' });
try {
  const options = { env: { GATE_TARGET: target.name }, targetsDirectory: target.dir, transcriptDir: `${target.dir}/transcripts` };
  const deploy = readDeploySection(new DescriptionFields(target.file, target.description).section('deploy'));
  if (!deploy) throw new Error('no deploy section');
  const buildStarted = performance.now();
  const closure = await buildTargetGeneration(deploy, new CommandTranscript());
  const buildMs = performance.now() - buildStarted;
  const hypervisor = (await buildFlakeOutput('hypervisor')).storePath;
  const unwanted = (await buildGeneration({ hypervisor, routing: deploy.routing, label: 'bench-unwanted', hypervisorEnv: { HYPERVISOR_KNOWN_GOOD_RETAIN: '9' } })).storePath;

  const sshArgs = ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${target.machine.ssh.knownHostsFile}`, '-i', target.machine.ssh.identityFile, '-p', String(target.machine.ssh.port), 'root@127.0.0.1', 'true'];
  const sshFloor: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const began = performance.now();
    await execa('ssh', sshArgs);
    sshFloor.push(performance.now() - began);
  }

  const firstStarted = performance.now();
  await runDeploy('switch', { ...options, closure });
  const first = performance.now() - firstStarted;

  const noop: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    const began = performance.now();
    const run = await runDeploy('switch', { ...options, closure });
    if (run.result?.changed) throw new Error('a no-op deploy changed something');
    noop.push(performance.now() - began);
  }

  const restartFloor: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    const before = (await waitForHealth(target.healthUrl, 30_000)).reading.bootId;
    const began = performance.now();
    await target.machine.exec(['systemctl', 'restart', 'choiros-hypervisor.service']);
    const { reading } = await waitForHealth(target.healthUrl, 60_000, before);
    if (!reading.healthy) throw new Error('the hypervisor did not come back after systemctl restart');
    restartFloor.push(performance.now() - began);
  }

  const rollback: number[] = [];
  for (let i = 0; i < 2; i += 1) {
    await runDeploy('switch', { ...options, closure: unwanted });
    const run = await runDeploy('rollback', options);
    rollback.push(run.result?.timeToHealthyMs ?? Number.NaN);
  }

  const reboot: number[] = [];
  for (let i = 0; i < 2; i += 1) {
    const before = (await waitForHealth(target.healthUrl, 30_000)).reading.bootId;
    const began = performance.now();
    await target.machine.reboot();
    const { reading } = await waitForHealth(target.healthUrl, 120_000, before);
    if (!reading.healthy) throw new Error('the hypervisor did not come back after the reboot');
    reboot.push(performance.now() - began);
  }

  const ssh = median(sshFloor);
  const restart = median(restartFloor);
  console.log(`build the generation (hypervisor package cached): ${buildMs.toFixed(0)} ms`);
  console.log(`floor: one SSH round trip: ${show(sshFloor)}`);
  console.log(`floor: systemctl restart to healthy: ${show(restartFloor)}`);
  console.log(`first converge (copy, profile, activate, healthy): ${first.toFixed(0)} ms = ${(first / ssh).toFixed(1)}x an SSH round trip`);
  console.log(`no-op converge: ${show(noop)} = ${(median(noop) / ssh).toFixed(1)}x an SSH round trip`);
  console.log(`rollback to healthy (after the profile switch): ${show(rollback)} = ${(median(rollback) / restart).toFixed(2)}x systemctl restart to healthy`);
  console.log(`reboot to healthy: ${show(reboot)} = ${(median(reboot) / restart).toFixed(2)}x systemctl restart to healthy`);
} finally {
  await target.close();
}
