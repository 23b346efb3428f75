import { readDeploySection } from '../../gate-runner/deploy-section.ts';
import { DescriptionFields } from '../../gate-runner/description-fields.ts';
import { buildGeneration } from '../../deploy/generation.ts';
import { buildFlakeOutput } from '../../nix/build.ts';
import { provenOnStandIns, test, expect } from '../../fixtures/phase4.ts';

test('Verify generation rollback and service recovery.', async ({ phase4Host, evidence }) => {
  // Three deploys, two of them waiting out a failed health check and rolling back.
  test.setTimeout(360_000);
  await evidence.provenOn(provenOnStandIns);
  const { target } = phase4Host;
  const deploy = readDeploySection(new DescriptionFields(target.file, target.description).section('deploy'));
  if (!deploy) throw new Error('the Phase 4 target has no deploy section');
  const active = async () => (await target.machine.exec(['readlink', '-e', deploy.profile])).stdout.trim();
  const hypervisor = (await buildFlakeOutput('hypervisor')).storePath;
  const good = await active();
  expect((await phase4Host.health()).healthy).toBe(true);

  await test.step('a generation whose hypervisor fails its health check: the deploy reports it and rolls back on its own', async () => {
    const broken = await buildGeneration({ hypervisor, routing: deploy.routing, label: 'broken-database', hypervisorEnv: { HYPERVISOR_DATABASE_URL: 'postgres://not-supported' } });
    const failed = await evidence.timed('deploy a failing generation until rolled back and healthy', () => phase4Host.deploy('switch', '--closure', broken.storePath));
    await evidence.command('deploy-failing-generation', failed.commandLine, failed.output);
    expect(failed.exitCode).toBe(1);
    expect(failed.output).toContain(`deploy of ${broken.storePath} FAILED (the hypervisor did not answer healthy`);
    expect(failed.output).toContain(`rolled back on its own to ${good}, which is healthy again`);
    expect(await active()).toBe(good);
    expect((await phase4Host.health()).healthy).toBe(true);
  });

  await test.step('a closure that fails to activate is reported and rolled back too', async () => {
    // The hypervisor package alone is no host generation: it has no bin/switch-to-configuration.
    const failed = await phase4Host.deploy('switch', '--closure', hypervisor);
    await evidence.command('deploy-closure-that-cannot-activate', failed.commandLine, failed.output);
    expect(failed.exitCode).toBe(1);
    expect(failed.output).toMatch(/FAILED \(activation exited \d+/);
    expect(await active()).toBe(good);
    expect((await phase4Host.health()).healthy).toBe(true);
  });

  await test.step('an explicit rollback command for a healthy but unwanted generation', async () => {
    const unwanted = await buildGeneration({ hypervisor, routing: deploy.routing, label: 'unwanted', hypervisorEnv: { HYPERVISOR_KNOWN_GOOD_RETAIN: '7' } });
    const deployed = await phase4Host.deploy('switch', '--closure', unwanted.storePath);
    await evidence.command('deploy-unwanted-generation', deployed.commandLine, deployed.output);
    expect(deployed.exitCode).toBe(0);
    expect(await active()).toBe(unwanted.storePath);
    const before = await phase4Host.health();
    const rolledBack = await evidence.timed('rollback to healthy', () => phase4Host.deploy('rollback'));
    await evidence.command('deploy-rollback', rolledBack.commandLine, rolledBack.output);
    expect(rolledBack.exitCode).toBe(0);
    expect(rolledBack.output).toMatch(/rolled back from \S+ to \S+ \(generation \d+\); healthy\./);
    expect(await active()).toBe(good);
    const after = await phase4Host.health();
    expect(after.healthy).toBe(true);
    expect(after.bootId).not.toBe(before.bootId);
  });
});
