import { readFile } from 'node:fs/promises';
import { test, expect, onLocalHost } from '../../fixtures/host-test.ts';
import { hypervisorPackageVersion } from '../../hypervisor/nixos/package.ts';
import { runbookBlock, runbookFile } from '../../hypervisor/nixos/runbook.ts';
import { nixosConfigurationNames, nixosRollbackReading } from '../../fixtures/nixos-rollback-command.ts';
import { healthUrlProblems } from '../../fixtures/host-health-url.ts';
import { targetHostConfig } from '../../fixtures/target-host-config.ts';
import { evaluateModule } from '../../hypervisor/nixos/module-eval.ts';

test('Document previous generation fallback path.', async ({ installedHost, evidence }) => {
  await evidence.provenOn(onLocalHost);
  const { host, firstHealth } = installedHost;
  const runbook = await readFile(runbookFile, 'utf8');
  const nextVersion = `${firstHealth.version}-next`;

  await test.step('the runbook documents the fallback on NixOS and on this host', async () => {
    await evidence.text('runbook.md', runbook, 'text/markdown');
    expect(runbookBlock('rollback')).toContain('nix-env --profile "$PROFILE" --rollback');
  });

  await test.step("the NixOS fallback switches now: its rollback command activates generation N at once (nixos-rebuild switch --rollback, not boot/test/build or a profile moved by hand), before the health check that expects N's version", async () => {
    const nixos = nixosRollbackReading(runbook);
    await evidence.json('nixos-rollback-command', { note: 'A NixOS build cannot run here: the documented NixOS command is checked by its parsed action; the same procedure is run for real on this host below (the profile blocks).', ...nixos });
    expect(nixos.rollbacks.length, `rollback commands in the NixOS block:\n${nixos.block}`).toBeGreaterThan(0);
    expect(nixos.rollbacks.filter((r) => !r.activatesNow).map((r) => r.command), 'rollback commands that do not activate generation N now').toEqual([]);
    const rollbackAt = nixos.commands.indexOf(nixos.rollbacks[0]?.command ?? '');
    const healthAt = nixos.commands.findIndex((c) => c.includes('/health'));
    expect(healthAt, 'the NixOS block checks /health after rolling back').toBeGreaterThan(rollbackAt);
  });

  await test.step("the NixOS fallback deploys a configuration hypervisor/flake.nix has (its --flake .#NAME is one of the flake's nixosConfigurations)", async () => {
    const { flakeTargets } = nixosRollbackReading(runbook);
    const configurations = await nixosConfigurationNames();
    await evidence.json('nixos-flake-targets', { flakeTargets, configurations });
    expect(flakeTargets.length, 'commands in the NixOS block that deploy with --flake').toBeGreaterThan(0);
    expect(flakeTargets.filter((t) => !configurations.includes(t.configuration)).map((t) => t.command), `commands deploying a configuration the flake does not have (it has: ${configurations.join(', ')})`).toEqual([]);
  });

  await test.step("the NixOS fallback's health check asks the hypervisor where the target host serves it: http, a name that reaches its bind address from the host, the port hosts/choiros-host.nix gives it, and /health", async () => {
    const { healthChecks } = nixosRollbackReading(runbook);
    const hostConfig = await targetHostConfig();
    const environment = (await evaluateModule(hostConfig.services['choiros-hypervisor'])).service.environment;
    const served = { bind: environment.HYPERVISOR_HOST ?? '127.0.0.1', port: Number(environment.HYPERVISOR_PORT), hostName: hostConfig.networking.hostName };
    const problems = healthChecks.flatMap((check) => healthUrlProblems(check.url, served));
    await evidence.json('nixos-health-check', { note: 'A NixOS host cannot be built here: the documented URL is held against what hosts/choiros-host.nix, evaluated with the module, serves.', served, healthChecks, problems });
    expect(healthChecks.length, 'health checks (an http URL asking /health) in the NixOS block').toBeGreaterThan(0);
    expect(problems, 'health checks of the NixOS block that do not reach the target host\'s hypervisor').toEqual([]);
  });

  const next = await test.step(`deploy generation N+1 (hypervisor ${nextVersion}) with the documented commands`, async () => {
    const build = await hypervisorPackageVersion(nextVersion);
    const closure = await host.buildClosure(build.storePath);
    const transcript = await host.runbook('switch', closure.outPath);
    await evidence.command('1-switch-to-n-plus-1', 'runbook: switch', transcript);
    const health = await host.waitHealthy();
    expect(health.version).toBe(nextVersion);
    expect(transcript).toMatch(/2 {3}.*\(current\)/);
    return { closure: closure.outPath, health };
  });

  await test.step(`roll back to generation N with the documented commands: the service runs ${firstHealth.version} again`, async () => {
    const transcript = await host.runbook('rollback');
    await evidence.command('2-rollback-to-n', 'runbook: rollback', transcript);
    const health = await host.waitHealthy();
    expect(health.version).toBe(firstHealth.version);
    expect(health.boot_id).not.toBe(next.health.boot_id);
    expect(transcript).toMatch(/1 {3}.*\(current\)/);
    const unitTarget = (await host.machine.exec(['readlink', '-f', '/etc/systemd/system/choiros-hypervisor.service'])).stdout.trim();
    expect(unitTarget.startsWith(installedHost.closure.outPath)).toBe(true);
    await evidence.json('3-health', { n: firstHealth, nPlus1: next.health, afterRollback: health });
  });
});
