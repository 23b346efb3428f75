import { execa } from 'execa';
import { test, expect, onLocalHost, onLocalNix } from '../../fixtures/host-test.ts';
import { hypervisorUnit } from '../../fixtures/hypervisor-host.ts';
import { whenLogged } from '../../fixtures/hypervisor-log.ts';
import { buildToplevel } from '../../nix/toplevel.ts';

test('`nix build` toplevel result attached.', async ({ installedHost, evidence }) => {
  const { packageBuild, closure } = installedHost;
  if (packageBuild.packageSet === 'nixpkgs') {
    // Where nixpkgs can be fetched, the real NixOS system closure of the target host is built.
    const toplevel = await buildToplevel('nixpkgs');
    await evidence.provenOn({ place: `Nix with the real nixpkgs on this machine: ${toplevel.attribute}` });
    await evidence.command('nix-build-toplevel', toplevel.command.join(' '), `${toplevel.log}\n${toplevel.storePath}`);
    expect(toplevel.storePath).toMatch(/^\/nix\/store\/[0-9a-z]{32}-nixos-system-choiros-host-/);
    return;
  }
  await evidence.provenOn(onLocalNix);
  const pathInfo = await execa('nix', ['--extra-experimental-features', 'nix-command', 'path-info', '--json', '--recursive', '--size', '--closure-size', closure.outPath]);
  const info = JSON.parse(pathInfo.stdout) as { path: string; narSize: number; closureSize: number; narHash: string }[];
  const top = info.find((entry) => entry.path === closure.outPath);
  await evidence.json('nix-build-result', {
    proves: 'the host closure (hypervisor package + unit + sysusers rendered from the evaluated module); it stands in for the NixOS toplevel, which needs nixpkgs',
    toplevelStandIn: closure.outPath,
    hypervisorPackage: packageBuild.storePath,
    packageBuild: { command: packageBuild.command.join(' '), durationMs: Math.round(packageBuild.durationMs), packageSet: packageBuild.packageSet },
    closureBuild: closure.command,
    closure: info.map(({ path, narSize, narHash }) => ({ path, narSize, narHash })),
    closureSize: top?.closureSize,
  });
  await evidence.command('nix-path-info', `nix path-info --json --recursive --size --closure-size ${closure.outPath}`, pathInfo.stdout);
  expect(top?.narHash).toMatch(/^sha256[:-]/);
  expect(info.map((entry) => entry.path)).toEqual(expect.arrayContaining([closure.outPath, packageBuild.storePath]));
});

test('Service status/log output attached.', async ({ installedHost, evidence }) => {
  await evidence.provenOn(onLocalHost);
  const { host } = installedHost;
  const status = await host.status();
  await evidence.command('systemctl-status', `systemctl status ${hypervisorUnit}`, status);
  // The health answer can come before journald has stored the line written just ahead of it (stdout to journald is another channel).
  const journal = await whenLogged(() => host.machine.journal({ unit: hypervisorUnit, lines: 300 }), (read) => /"event":"hypervisor.listening"/.test(read));
  await evidence.command('journalctl', `journalctl -u ${hypervisorUnit}`, journal);
  const show = await host.unitProperties('ActiveState', 'SubState', 'MainPID', 'NRestarts', 'InvocationID', 'ExecMainStartTimestamp', 'FragmentPath');
  await evidence.json('systemctl-show', show);
  expect(status).toMatch(/Active: active \(running\)/);
  expect(journal).toMatch(/"event":"hypervisor.listening"/);
  expect(show.ActiveState).toBe('active');
});
