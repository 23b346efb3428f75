import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { test, expect, onLocalHost, onLocalNix } from '../../fixtures/host-test.ts';
import { hypervisorUnit } from '../../fixtures/hypervisor-host.ts';
import { whenLogged } from '../../fixtures/hypervisor-log.ts';
import { startWithUnexecutableProgram } from '../../fixtures/unexecutable-start.ts';
import { evaluateModule } from '../../hypervisor/nixos/module-eval.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('NixOS system closure builds for target host config.', async ({ installedHost, evidence }) => {
  await evidence.provenOn(onLocalNix);
  const { host, packageBuild, closure } = installedHost;

  await test.step('the hypervisor package builds from hypervisor/flake.nix', async () => {
    await evidence.command('1-nix-build-hypervisor-package', packageBuild.command.join(' '), `${packageBuild.log}\n${packageBuild.storePath}`);
    expect(packageBuild.storePath).toMatch(/^\/nix\/store\/[a-z0-9]{32}-choiros-hypervisor-/);
  });

  await test.step("the host's closure builds: the package with the unit and users rendered from the evaluated module", async () => {
    await evidence.command('2-nix-build-host-closure', closure.command, `${closure.log}\n${closure.outPath}`);
    await evidence.text('3-closure-paths.txt', closure.paths.join('\n'));
    expect(closure.paths).toContain(packageBuild.storePath);
    // The list is what later checks search (no secret in any store path the host runs), so it must be the whole closure.
    const requisites = (await execa('nix-store', ['--query', '--requisites', closure.outPath])).stdout.split('\n').filter(Boolean);
    expect([...closure.paths].sort(), `the attached closure paths against nix-store --query --requisites ${closure.outPath} (the closure itself and every indirect dependency)`).toEqual(requisites.sort());
    const unit = await readFile(path.join(closure.outPath, 'etc/systemd/system/choiros-hypervisor.service'), 'utf8');
    await evidence.text('4-choiros-hypervisor.service', unit);
    expect(unit).toBe((await evaluateModule(host.settings, packageBuild.storePath)).unitText);
    expect(unit).toContain(`ExecStart=${packageBuild.storePath}/bin/choiros-hypervisor`);
  });

  await test.step('it builds reproducibly: nix rebuilds it and finds the same output', async () => {
    const drv = (await execa('nix-store', ['--query', '--deriver', closure.outPath])).stdout.trim();
    const check = await execa('nix-store', ['--realise', '--check', drv], { reject: false, all: true, env: { NIX_CONFIG: 'substituters =' } });
    await evidence.command('5-nix-store-check', `nix-store --realise --check ${drv}`, String(check.all));
    expect(check.exitCode, String(check.all)).toBe(0);
  });

  await test.step('the host runs exactly that closure: its unit file resolves into it', async () => {
    const resolved = (await host.machine.exec(['readlink', '-f', `/etc/systemd/system/${hypervisorUnit}`])).stdout.trim();
    expect(resolved).toBe(path.join(closure.outPath, 'etc/systemd/system', hypervisorUnit));
  });
});

test('Hypervisor service starts reliably under systemd.', async ({ installedHost, evidence }) => {
  await evidence.provenOn(onLocalHost);
  const { host, admin } = installedHost;
  const userId = `phase3-${randomBytes(4).toString('hex')}`;
  /** The user's sandbox data (folders and databases; logs and SQLite's WAL side files come and go), relative to it. */
  const userFiles = async (): Promise<string[]> =>
    (await host.machine.exec(['find', `/var/lib/choiros-hypervisor/sandboxes/${userId}`, '-mindepth', '1', '-printf', '%P\\n'])).stdout.split('\n').filter((f) => f && !/(\.log(\.\d+)?|-wal|-shm)$/.test(f)).sort();
  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return;
      await sleep(100);
    }
    throw new Error(`${what} did not happen within ${timeoutMs / 1000} s; the journal ends with:\n${await host.machine.journal({ unit: hypervisorUnit, lines: 30 })}`);
  };

  const started = await test.step('systemd started it at boot of the unit: active, running, healthy', async () => {
    const unit = await host.unitProperties('ActiveState', 'SubState', 'MainPID', 'NRestarts', 'InvocationID', 'User', 'UnitFileState');
    expect(unit).toMatchObject({ ActiveState: 'active', SubState: 'running', User: 'choiros-hypervisor', UnitFileState: 'enabled' });
    // Started at boot because the module says so (wantedBy, which NixOS turns into the multi-user.target.wants link),
    // not only because this host's install step links it by hand.
    const unitFile = await readFile(path.join(installedHost.closure.outPath, 'etc/systemd/system', hypervisorUnit), 'utf8');
    expect(unitFile.slice(unitFile.indexOf('[Install]')), `the [Install] section of ${hypervisorUnit}`).toMatch(/^\[Install\]\nWantedBy=.*\bmulti-user\.target\b/m);
    expect((await host.health()).status).toBe('healthy');
    await evidence.command('1-systemctl-status-started', `systemctl status ${hypervisorUnit}`, await host.status());
    return unit;
  });

  const before = await test.step("a user's sandbox data and route pointers exist before the faults", async () => {
    await admin.start(userId, 'live');
    await admin.start(userId, 'dev');
    await admin.swap(userId, 'phase 3: a pointer to keep across restarts and reboots');
    const pointers = await admin.pointers(userId);
    expect(pointers).toMatchObject({ main: 'dev', dev: 'live' });
    const data = await userFiles();
    expect(data).toEqual(['dev', 'dev/sandbox.db', 'live', 'live/sandbox.db']);
    await evidence.text('2-user-data-before.txt', data.join('\n'));
    await evidence.json('2-pointers-before', pointers);
    return { pointers, data };
  });

  await test.step('kill -9 of the main process: systemd restarts it (NRestarts counted), healthy again', async () => {
    const pid = started.MainPID ?? '';
    await host.machine.exec(['kill', '-9', pid]);
    await waitFor('a restart by systemd after kill -9', async () => {
      const unit = await host.unitProperties('ActiveState', 'MainPID', 'NRestarts');
      return unit.ActiveState === 'active' && unit.MainPID !== pid && unit.MainPID !== '0' && Number(unit.NRestarts) === Number(started.NRestarts) + 1;
    });
    expect((await host.waitHealthy()).status).toBe('healthy');
    // systemd's messages reach the journal through journald, behind the unit state systemctl reports: read until both are there.
    const journal = await whenLogged(() => host.machine.journal({ unit: hypervisorUnit, lines: 40 }), (read) => /Main process exited, code=killed, status=9\/KILL/.test(read) && /Scheduled restart job, restart counter is at 1/.test(read));
    await evidence.command('3-journal-after-kill-9', `journalctl -u ${hypervisorUnit}`, journal);
    expect(journal).toMatch(/Main process exited, code=killed, status=9\/KILL/);
    expect(journal).toMatch(/Scheduled restart job, restart counter is at 1/);
  });

  await test.step('systemctl restart: a new invocation, healthy; an asked-for restart starts the crash count afresh', async () => {
    const unit = await host.unitProperties('InvocationID', 'NRestarts');
    const bootId = (await host.health()).boot_id;
    await host.machine.exec(['systemctl', 'restart', hypervisorUnit]);
    const after = await host.waitHealthy();
    expect(after.boot_id).not.toBe(bootId);
    const now = await host.unitProperties('InvocationID', 'NRestarts', 'ActiveState');
    expect(now.InvocationID).not.toBe(unit.InvocationID);
    expect(unit.NRestarts).toBe('1');
    expect(now).toMatchObject({ ActiveState: 'active', NRestarts: '0' });
  });

  await test.step('systemctl stop: inactive, cleanly (Result=success), nothing listens; start brings it back', async () => {
    await host.machine.exec(['systemctl', 'stop', hypervisorUnit]);
    expect(await host.unitProperties('ActiveState', 'Result')).toMatchObject({ ActiveState: 'inactive', Result: 'success' });
    await expect(host.health()).rejects.toThrow();
    await host.machine.exec(['systemctl', 'start', hypervisorUnit]);
    expect((await host.waitHealthy()).status).toBe('healthy');
  });

  await test.step('a start that cannot execute the hypervisor makes `systemctl start` itself fail (a copy of the unit with a missing program): a broken start never looks started', async () => {
    const unitFile = await readFile(path.join(installedHost.closure.outPath, 'etc/systemd/system', hypervisorUnit), 'utf8');
    const probe = await startWithUnexecutableProgram(host, unitFile);
    await evidence.command('4-start-with-missing-program', `systemctl start ${probe.unit} (ExecStart=${probe.missingProgram})`, `exit ${probe.exitCode}\n${probe.output}\n${JSON.stringify(probe.properties, null, 2)}\n\n${probe.unitText}`);
    expect(probe.exitCode, `systemctl start of ${probe.unit} (Type=${probe.properties.Type}) with ExecStart=${probe.missingProgram}`).not.toBe(0);
    expect(probe.properties.Result, 'why systemd says the start failed').not.toBe('success');
    expect((await host.health()).status, 'the real service is untouched').toBe('healthy');
  });

  await test.step('a reboot brings it back on its own: new boot, healthy, data and route pointers intact', async () => {
    const machineBoot = await host.machine.bootIdentity();
    const hypervisorBoot = (await host.health()).boot_id;
    await host.machine.reboot();
    expect(await host.machine.bootIdentity()).not.toBe(machineBoot);
    const health = await host.waitHealthy();
    expect(health.boot_id).not.toBe(hypervisorBoot);
    expect(await host.unitProperties('ActiveState', 'NRestarts')).toMatchObject({ ActiveState: 'active', NRestarts: '0' });
    expect(await admin.pointers(userId)).toMatchObject({ main: before.pointers.main, dev: before.pointers.dev });
    expect(await userFiles()).toEqual(before.data);
    await evidence.json('4-after-reboot', { machineBoot: { before: machineBoot, after: await host.machine.bootIdentity() }, hypervisorBootId: { before: hypervisorBoot, after: health.boot_id }, pointers: await admin.pointers(userId) });
    await evidence.command('5-systemctl-status-after-reboot', `systemctl status ${hypervisorUnit}`, await host.status());
  });
});
