import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { sysusersGroupMembers } from '../../fixtures/sysusers-applied.ts';
import { test, expect, onLocalHost, onLocalNix } from '../../fixtures/host-test.ts';
import { browserOrigin } from '../../fixtures/browser-origin.ts';
import { moduleDefaultDifferences, stateVariables } from '../../fixtures/module-default-config.ts';
import { distinctModuleSettings, moduleOwnVariables } from '../../fixtures/distinct-module-settings.ts';
import { cloudwatchOffReadings } from '../../fixtures/cloudwatch-off-readings.ts';
import { podmanTraces } from '../../fixtures/podman-traces.ts';
import { targetHostConfig, targetHostFile } from '../../fixtures/target-host-config.ts';
import { sandboxImage, sandboxImageLatest } from '../../hypervisor/workload/image/image.ts';
import { optionRangeProbes } from '../../fixtures/option-ranges.ts';
import { optionStringProbes, probedStringOptions } from '../../fixtures/option-string-probes.ts';
import { adminTokenUnitReadings, expectedAdminTokenLines } from '../../fixtures/admin-token-unset.ts';
import { firewallVerdicts } from '../../fixtures/module-firewall.ts';
import { defaultTextReadings } from '../../fixtures/option-default-text.ts';
import { hostFileModes, openToOthers } from '../../fixtures/host-file-modes.ts';
import { cloudwatchCredentialsPath } from '../../fixtures/host-cloudwatch-credentials.ts';
import { adminTokenPath, hypervisorUnit } from '../../fixtures/hypervisor-host.ts';
import { whenLogged } from '../../fixtures/hypervisor-log.ts';
import { connectUnderUnitLimits, packageNode } from '../../fixtures/service-sandbox-probe.ts';
import { misjudged, moduleAssertionCases, moduleVerdicts, rpOriginCases, statePathCases } from '../../fixtures/module-verdicts.ts';
import { credentialReferenceProblems, loadedCredentials, parseEnviron, unitEnvironment } from '../../fixtures/unit-credentials.ts';
import { addressFamilyAllowed, unitSetting, unitUmask } from '../../fixtures/unit-settings.ts';
import { acceptedOpenItems, maximumExposure, requireHardened, unexpectedOpenItems, unitExposure } from '../../hypervisor/nixos/exposure.ts';
import { evaluateFlakeModule, flakeNixosConfigurations } from '../../hypervisor/nixos/flake-module.ts';
import { evaluateModule } from '../../hypervisor/nixos/module-eval.ts';
import { optionVariables, settingOf, variableValue } from '../../hypervisor/nixos/option-variables.ts';

test('Implement `nixosModules.default` in `hypervisor/flake.nix`.', async ({ evidence }) => {
  await evidence.provenOn(onLocalNix);
  const settings = { port: 9090, adminTokenFile: '/run/secrets/choiros-admin-token' };

  await test.step("the flake's nixosModules.default evaluates with lib.evalModules to the same service as hypervisor/nixos/module.nix", async () => {
    const { evaluation, command } = await evaluateFlakeModule(settings);
    await evidence.command('1-nix-eval-flake-module', command, evaluation.unitText);
    expect(evaluation.failed).toEqual([]);
    expect(evaluation.unitText).toBe((await evaluateModule(settings)).unitText);
  });

  await test.step('the flake declares the target host configuration (nixosConfigurations.choiros-host)', async () => {
    const hosts = await flakeNixosConfigurations();
    await evidence.json('2-nixos-configurations', hosts);
    expect(hosts).toContain('choiros-host');
  });

  await test.step("the target host's configuration (hosts/choiros-host.nix) passes the module's assertions without warnings, serves passkeys at the origin a browser reaching it sends (http://<hostName>:<port>, no proxy in front yet) on a public address with its port opened, runs its sandboxes from the image this checkout's builder tags (localhost/choir-sandbox:<version> or :latest, never a registry's), and takes SSH keys only", async () => {
    const hostConfig = await targetHostConfig();
    const settings = hostConfig.services['choiros-hypervisor'];
    const evaluation = await evaluateModule(settings);
    const environment = evaluation.service.environment;
    const port = Number(environment.HYPERVISOR_PORT);
    const reading = {
      failed: evaluation.failed,
      warnings: evaluation.warnings,
      rpOrigin: environment.WEBAUTHN_RP_ORIGIN,
      browserOrigin: browserOrigin('http', hostConfig.networking.hostName, port),
      boundToLoopback: ['127.0.0.1', '::1', 'localhost'].includes(environment.HYPERVISOR_HOST ?? ''),
      portOpened: evaluation.firewall.includes(port),
      ssh: hostConfig.services.openssh,
    };
    await evidence.json('2-target-host-config', { file: targetHostFile, note: 'NixOS itself needs nixpkgs, which cannot be had here: the host file is read with nix and its services.choiros-hypervisor evaluated with the module.', hostConfig, reading });
    expect({ failed: reading.failed, warnings: reading.warnings }, 'assertions and warnings of the target host').toEqual({ failed: [], warnings: [] });
    expect(reading.rpOrigin, `WEBAUTHN_RP_ORIGIN of ${hostConfig.networking.hostName}, reached at its port ${port}`).toBe(reading.browserOrigin);
    expect({ boundToLoopback: reading.boundToLoopback, portOpened: reading.portOpened }, 'a host with no proxy in front serves on a public address with its port opened').toEqual({ boundToLoopback: false, portOpened: true });
    // A name without localhost/ is looked up in a registry by podman, where no sandbox image is: every sandbox start fails to pull.
    expect(environment.SANDBOX_RUNTIME, `SANDBOX_RUNTIME of ${hostConfig.networking.hostName}: the target host runs its sandboxes with podman`).toBe('podman');
    expect([sandboxImage, sandboxImageLatest], `SANDBOX_CONTAINER_IMAGE of ${hostConfig.networking.hostName}: an image hypervisor/workload/image builds`).toContain(environment.SANDBOX_CONTAINER_IMAGE);
    expect(hostConfig.services.openssh.enable, 'sshd').toBe(true);
    expect(hostConfig.services.openssh.settings, 'SSH by key only').toMatchObject({ PasswordAuthentication: false, KbdInteractiveAuthentication: false });
    expect(['prohibit-password', 'no'], 'PermitRootLogin: root by key at most').toContain(hostConfig.services.openssh.settings.PermitRootLogin);
  });

  await test.step('the module refuses an rpOrigin whose host is not rpId or a subdomain of it (a look-alike ending in the same letters too), and accepts rpId and its subdomains', async () => {
    const verdicts = await moduleVerdicts(rpOriginCases('choir.example.com'));
    await evidence.json('3-rp-origin-verdicts', verdicts);
    expect(misjudged(verdicts), 'settings the module judged otherwise than expected').toEqual([]);
  });

  await test.step("each of the module's other assertions both ways: a CloudWatch namespace in the reserved AWS/ space, publishing without a region, a secret file in the Nix store, podman without an image, a firewall opened for loopback are refused naming the option; the nearest good setting is accepted", async () => {
    const verdicts = await moduleVerdicts(moduleAssertionCases());
    await evidence.json('4-assertion-verdicts', verdicts);
    expect(misjudged(verdicts), 'settings the module judged otherwise than expected').toEqual([]);
  });

  await test.step("every whole-number option's type lets through exactly what the hypervisor accepts in its variable: no value the module takes stops the service at start, and every value the hypervisor documents (idleTimeout = 0: never stop) can be set", async () => {
    const probes = await optionRangeProbes(await evaluateModule({}));
    await evidence.json('5-option-ranges', probes);
    expect(new Set(probes.map((p) => p.option)).size, 'whole-number options probed').toBeGreaterThanOrEqual(7);
    expect(probes.filter((p) => p.module !== p.hypervisor).map((p) => `${p.option} = ${p.value}: the module ${p.module ? 'accepts' : 'refuses'} it, the hypervisor ${p.hypervisor ? 'accepts' : `refuses it (${p.refusal ?? ''})`}`), 'values the module and the hypervisor judge differently').toEqual([]);
    const idleZero = probes.find((p) => p.option === 'idleTimeout' && p.value === 0);
    expect(idleZero?.module, 'idleTimeout = 0 (its description: 0 never stops them)').toBe(true);
  });

  await test.step("with cloudwatch.enable and only its region set (what the README asks for), the other CloudWatch options' defaults give the hypervisor its own (namespace ChoirOS/Hypervisor, a batch every 60 s, AWS's endpoint for the region, the machine's host name as Host): it reads the same as from HYPERVISOR_CLOUDWATCH=on and the region alone", async () => {
    const region = 'eu-central-1';
    const publishing = await evaluateModule({ cloudwatch: { enable: true, region } });
    const differences = moduleDefaultDifferences(publishing.service.environment, { HYPERVISOR_CLOUDWATCH: 'on', HYPERVISOR_CLOUDWATCH_REGION: region });
    await evidence.json('5-cloudwatch-defaults', { environment: publishing.service.environment, differences });
    expect(publishing.failed).toEqual([]);
    expect(differences, 'settings where publishing with only a region gives the hypervisor other values than its own defaults').toEqual([]);
  });

  await test.step("with publishing on and cloudwatch.credentialsFile left null (the EC2 instance role: the SDK's default chain), the unit sets no AWS_ variable and loads or asserts no CloudWatch credential", async () => {
    const instanceRole = await evaluateModule({ cloudwatch: { enable: true, region: 'eu-central-1' } });
    const awsVariables = Object.fromEntries(Object.entries(instanceRole.service.environment).filter(([name]) => name.startsWith('AWS_')));
    const credentialLines = [...loadedCredentials(instanceRole.unitText).map((l) => `LoadCredential=${l.name}:${l.source}`), ...unitSetting(instanceRole.unitText, 'AssertPathExists', '[Unit]').map((p) => `AssertPathExists=${p}`)];
    await evidence.json('5-cloudwatch-instance-role', { environment: instanceRole.service.environment, credentialLines });
    expect(instanceRole.failed).toEqual([]);
    expect(instanceRole.service.environment.HYPERVISOR_CLOUDWATCH, 'publishing is on').toBe('on');
    expect({ awsVariables, credentialLines }, 'what points the AWS SDK away from its default chain').toEqual({ awsVariables: {}, credentialLines: [] });
  });

  await test.step("every text option the hypervisor checks (bind address, sandbox image, rpId, rpOrigin, CloudWatch region, namespace, endpoint, host) builds with exactly the values the hypervisor starts with: a host file's near miss (a space, an underscore, a path, a capital, one past a length) is refused at build time, not by a service that never starts", async () => {
    const probes = await optionStringProbes(await evaluateModule({}));
    await evidence.json('5-option-strings', probes);
    expect([...new Set(probes.map((p) => p.option))].sort(), 'text options probed (each names its variable)').toEqual([...probedStringOptions].sort());
    expect(probes.filter((p) => p.module !== p.hypervisor).map((p) => `${p.option} = ${JSON.stringify(p.value)}: the module ${p.module ? 'builds with it' : 'refuses it'}, the hypervisor ${p.hypervisor ? 'starts with it' : `refuses it (${p.refusal ?? ''})`}`), 'values the module and the hypervisor judge differently').toEqual([]);
    // Both verdicts occur for every option, so agreement is not "everything refused" or "everything taken".
    for (const option of probedStringOptions) expect(new Set(probes.filter((p) => p.option === option).map((p) => p.hypervisor)).size, `${option}: probes the hypervisor takes and refuses`).toBe(2);
  });

  await test.step('with cloudwatch off (its default) the unit has no HYPERVISOR_CLOUDWATCH or AWS_ variable and loads or asserts no CloudWatch credential, whatever else is set; a region, endpoint or credentials file set while off draws a warning naming cloudwatch.enable, publishing or an untouched cloudwatch none', async () => {
    const readings = await cloudwatchOffReadings();
    await evidence.json('6-cloudwatch-off', readings);
    const seen = readings.map((r) => ({ case: r.case, variables: r.publishing ? 'publishing' : r.variables, credentialLines: r.publishing ? 'publishing' : r.credentialLines, warnsNamingEnable: r.warnings.some((w) => w.includes('cloudwatch.enable')), otherWarnings: r.warnings.filter((w) => !w.includes('cloudwatch.enable')) }));
    expect(seen, 'what the unit and the warnings hold of CloudWatch, per setting').toEqual(readings.map((r) => ({ case: r.case, variables: r.publishing ? 'publishing' : {}, credentialLines: r.publishing ? 'publishing' : [], warnsNamingEnable: r.warns, otherWarnings: [] })));
    // The reading itself sees CloudWatch when it is on, so an empty reading above means "absent", not "not looked for".
    const on = readings.find((r) => r.publishing);
    expect(Object.keys(on?.variables ?? {}), 'variables with publishing on').toEqual(expect.arrayContaining(['HYPERVISOR_CLOUDWATCH', 'AWS_SHARED_CREDENTIALS_FILE']));
    expect(on?.credentialLines.length, 'the CloudWatch credential loaded and asserted with publishing on').toBe(2);
  });

  await test.step("the firewall opens the hypervisor's port exactly when openFirewall is true: left at its default or false it opens nothing", async () => {
    const verdicts = await firewallVerdicts(9191);
    await evidence.json('7-firewall-verdicts', verdicts);
    expect(verdicts.map((v) => ({ case: v.case, allowedTCPPorts: v.allowedTCPPorts })), 'networking.firewall.allowedTCPPorts').toEqual(verdicts.map((v) => ({ case: v.case, allowedTCPPorts: v.expected })));
  });

  await test.step('with the defaults, the WebAuthn origin the hypervisor gets is the one a browser reaching it sends (scheme://rpId:port), it follows the port, and each defaultText says the default the module computes', async () => {
    const readings = [];
    for (const port of [9090, 9191]) {
      const evaluation = await evaluateModule(port === 9090 ? {} : { port });
      const environment = evaluation.service.environment;
      const expected = browserOrigin('http', environment.WEBAUTHN_RP_ID ?? '(no WEBAUTHN_RP_ID)', Number(environment.HYPERVISOR_PORT));
      readings.push({ port, HYPERVISOR_PORT: environment.HYPERVISOR_PORT, WEBAUTHN_RP_ORIGIN: environment.WEBAUTHN_RP_ORIGIN, browserOrigin: expected, defaultTexts: await defaultTextReadings(evaluation) });
    }
    await evidence.json('8-default-rp-origin', readings);
    for (const r of readings) {
      expect(r.HYPERVISOR_PORT, 'the port the hypervisor listens on').toBe(String(r.port));
      expect(r.WEBAUTHN_RP_ORIGIN, `the default origin with port = ${r.port}`).toBe(r.browserOrigin);
      expect(r.defaultTexts.evaluated.map((d) => d.option), 'options whose documentation states a computed default').toContain('webauthn.rpOrigin');
      for (const d of r.defaultTexts.evaluated) expect(d.actual, `services.choiros-hypervisor.${d.option}: its defaultText (${d.defaultText}) says ${JSON.stringify(d.says)} with port = ${r.port}`).toEqual(d.says);
    }
  });
});

test('Define hypervisor systemd service.', async ({ installedHost, evidence }) => {
  await evidence.provenOn(onLocalHost);
  const { host } = installedHost;
  const unitText = await readFile(`${installedHost.closure.outPath}/etc/systemd/system/${hypervisorUnit}`, 'utf8');

  await test.step('a dedicated user, its state in a StateDirectory, restarted on failure, ordered after the network', async () => {
    const unit = await host.unitProperties('User', 'Group', 'StateDirectory', 'Restart', 'After', 'Wants', 'WorkingDirectory');
    await evidence.json('1-unit-properties', unit);
    expect(unit).toMatchObject({ User: 'choiros-hypervisor', Group: 'choiros-hypervisor', StateDirectory: 'choiros-hypervisor', Restart: 'on-failure', WorkingDirectory: '/var/lib/choiros-hypervisor' });
    expect(unit.After).toContain('network-online.target');
    // After= only orders: without Wants= nothing pulls network-online.target in, and the unit starts before the network is up.
    expect(unit.Wants, 'Wants= (pulls network-online.target into the boot)').toContain('network-online.target');
    const owner = (await host.machine.exec(['stat', '-c', '%U:%G %a', '/var/lib/choiros-hypervisor'])).stdout.trim();
    expect(owner).toBe('choiros-hypervisor:choiros-hypervisor 700');
    const mainPid = (await host.unitProperties('MainPID')).MainPID ?? '';
    const uid = (await host.machine.exec(['stat', '-c', '%U', `/proc/${mainPid}`])).stdout.trim();
    expect(uid).toBe('choiros-hypervisor');
    // A system user (NixOS refuses a user that is neither system nor normal; the Debian stand-in's sysusers makes every user a system one, so the module's own setting is read).
    const user = (await evaluateModule(host.settings)).users['choiros-hypervisor'];
    await evidence.json('1-service-user', user ?? {});
    expect(user, "the module's users.users.choiros-hypervisor").toMatchObject({ isSystemUser: true, group: 'choiros-hypervisor', home: '/var/lib/choiros-hypervisor' });
  });

  await test.step("the service user as systemd-sysusers created it on the host from the rendered sysusers.d file (getent) is the module's users.users.choiros-hypervisor: its primary group and its home", async () => {
    const declared = (await evaluateModule(host.settings)).users['choiros-hypervisor'];
    const passwd = (await host.machine.exec(['getent', 'passwd', 'choiros-hypervisor'])).stdout.trim();
    const [, , , gid = '', , home = ''] = passwd.split(':');
    const group = (await host.machine.exec(['getent', 'group', gid], { reject: false })).stdout.trim().split(':')[0];
    await evidence.json('1-service-user-applied', { passwd, group, declared: declared ?? {} });
    expect({ group, home }, `getent passwd choiros-hypervisor on the host: ${passwd}`).toEqual({ group: declared?.group, home: declared?.home });
  });

  await test.step(`hardened: systemd-analyze security scores the unit at most ${maximumExposure}, and rates open only what the module leaves open on purpose`, async () => {
    const report = await unitExposure(unitText);
    await evidence.command('2-systemd-analyze-security', 'systemd-analyze security --offline=true choiros-hypervisor.service', report.table);
    requireHardened(report);
    expect(report.rating).toBe('OK');
    // The bound alone lets one lost setting through (most weigh 0.1 to 0.5): each open item must be one the module leaves open on purpose.
    expect(unexpectedOpenItems(report), `items systemd-analyze rates open beyond the accepted ones (${Object.keys(acceptedOpenItems).join(', ')}): a hardening setting of module.nix lost or weakened`).toEqual([]);
  });

  await test.step('systemd on the host accepts the unit as written (systemd-analyze verify)', async () => {
    const verify = await host.machine.exec(['systemd-analyze', 'verify', hypervisorUnit], { reject: false });
    await evidence.command('3-systemd-analyze-verify', `systemd-analyze verify ${hypervisorUnit}`, `${verify.stdout}${verify.stderr}`);
    expect(verify.exitCode, verify.stderr).toBe(0);
  });

  await test.step("every option sets the variable its description names to that option's own value, and the unit sets no variable left unchecked", async () => {
    const evaluation = await evaluateModule(distinctModuleSettings);
    const defaults = await evaluateModule({});
    const environment = evaluation.service.environment;
    const rows = optionVariables(evaluation).map((entry) => {
      const value = settingOf(distinctModuleSettings, entry.option);
      return { ...entry, set: value, default: settingOf(defaults.options, entry.option), expected: value === undefined ? undefined : variableValue(entry, value), actual: environment[entry.variable] };
    });
    await evidence.json('4-option-variables', { settings: distinctModuleSettings, rows, environment });
    expect(evaluation.failed).toEqual([]);
    expect(rows.length, 'options whose description names a variable').toBeGreaterThan(0);
    expect(rows.filter((r) => r.set === undefined).map((r) => r.option), 'options naming a variable with no value in fixtures/distinct-module-settings.ts').toEqual([]);
    // Only distinct values show a variable filled from the wrong option.
    expect(rows.filter((r) => rows.some((other) => other !== r && other.expected === r.expected)).map((r) => r.option), 'options given the same value').toEqual([]);
    expect(rows.filter((r) => JSON.stringify(r.set) === JSON.stringify(r.default)).map((r) => r.option), 'options left at their default').toEqual([]);
    for (const row of rows) expect(row.actual, `${row.variable}, from services.choiros-hypervisor.${row.option} = ${JSON.stringify(row.set)}`).toBe(row.expected);
    for (const [variable, value] of Object.entries(moduleOwnVariables)) expect(environment[variable], variable).toBe(value);
    const checked = new Set([...rows.map((r) => r.variable), ...Object.keys(moduleOwnVariables)]);
    expect(Object.keys(environment).filter((variable) => !checked.has(variable)), 'variables the unit sets that no option description names (name it in its option, or add it to moduleOwnVariables)').toEqual([]);
  });

  await test.step("the running service's environment, as systemd applied the rendered unit, is the evaluated module's: every variable it sets, each with its value (%d read as the credentials directory)", async () => {
    const declared = (await evaluateModule(host.settings)).service.environment;
    const pid = (await host.unitProperties('MainPID')).MainPID ?? '';
    const environ = parseEnviron((await host.machine.exec(['cat', `/proc/${pid}/environ`])).stdout);
    const credentialsDirectory = environ.CREDENTIALS_DIRECTORY ?? '(no CREDENTIALS_DIRECTORY)';
    const expected = Object.fromEntries(Object.entries(declared).map(([variable, value]) => [variable, value.replaceAll('%d', credentialsDirectory)]));
    const applied = Object.fromEntries(Object.keys(declared).map((variable) => [variable, environ[variable]]));
    await evidence.json('4-applied-environment', { settings: host.settings, declared, applied });
    expect(Object.keys(declared).length, "variables the module's environment sets").toBeGreaterThan(0);
    expect(applied, `/proc/${pid}/environ against services.choiros-hypervisor's evaluated environment`).toEqual(expected);
  });

  await test.step("left at their defaults, the options give the hypervisor its own documented defaults (the contract's table): it reads the same configuration as from no variable at all, the state paths aside, which stay under the StateDirectory", async () => {
    const defaults = await evaluateModule({});
    const differences = moduleDefaultDifferences(defaults.service.environment);
    await evidence.json('4-module-defaults', { environment: defaults.service.environment, statePathsAside: stateVariables, differences });
    expect(defaults.failed).toEqual([]);
    expect(differences, 'settings where the module left at its defaults gives the hypervisor other values than its own defaults').toEqual([]);
  });

  await test.step('state paths outside the StateDirectory, where the hardened unit cannot write, are refused: databasePath and dataRoot each on its own', async () => {
    const verdicts = await moduleVerdicts(statePathCases('/var/lib/choiros-hypervisor'));
    await evidence.json('5-state-path-verdicts', verdicts);
    expect(misjudged(verdicts), 'settings the module judged otherwise than expected').toEqual([]);
  });

  await test.step("the files the hypervisor creates (its database, a sandbox's data) are its user's alone: no group or other bits, and the unit's UMask keeps them out", async () => {
    const userId = `phase3-${randomBytes(4).toString('hex')}`;
    expect((await installedHost.admin.start(userId, 'live')).status).toBe('running');
    const created = await hostFileModes(host, '/var/lib/choiros-hypervisor').finally(() => installedHost.admin.stop(userId, 'live'));
    await evidence.json('6-state-file-modes', { umask: unitSetting(unitText, 'UMask'), created });
    expect(created.map((f) => f.path)).toEqual(expect.arrayContaining(['/var/lib/choiros-hypervisor/hypervisor.db', `/var/lib/choiros-hypervisor/sandboxes/${userId}`]));
    // A link's own mode is always 777 and grants nothing: what it points to is listed on its own.
    expect(created.filter((f) => f.type !== 'link' && (openToOthers(f.mode) || f.owner !== 'choiros-hypervisor')), 'files under the state directory open to other users or not owned by the service user').toEqual([]);
    expect(unitUmask(unitText) & 0o077, `UMask=${unitSetting(unitText, 'UMask').join(',')}: group and others masked`).toBe(0o077);
  });
});

test('Define container runtime/service integration for sandbox lifecycle.', async ({ installedHost, evidence }) => {
  await evidence.provenOn(onLocalHost);
  const { host, admin } = installedHost;

  await test.step('with runtime = "podman" the module enables podman and reaches it through its socket, ordered after it', async () => {
    const evaluation = await evaluateModule({ runtime: 'podman', sandboxImage: 'localhost/choir-sandbox:0.1.0' });
    await evidence.json('1-podman-runtime-service', { after: evaluation.service.after, requires: evaluation.service.requires, environment: evaluation.service.environment, podmanEnabled: evaluation.podmanEnabled, groups: evaluation.users['choiros-hypervisor']?.extraGroups });
    expect(evaluation.failed).toEqual([]);
    expect(evaluation.podmanEnabled).toBe(true);
    expect(evaluation.service.after).toContain('podman.socket');
    expect(evaluation.service.requires).toContain('podman.socket');
    expect(evaluation.service.environment).toMatchObject({ SANDBOX_RUNTIME: 'podman', CONTAINER_HOST: 'unix:///run/podman/podman.sock' });
    // The container privileges stay in podman's own service: the hypervisor's unit is as locked down as in process mode.
    const podmanExposure = requireHardened(await unitExposure(evaluation.unitText));
    expect(unexpectedOpenItems(podmanExposure), 'items systemd-analyze rates open in the podman-mode unit beyond the accepted ones').toEqual([]);
    expect((await evaluateModule({ runtime: 'podman' })).failed.join('\n')).toContain('sandboxImage must be set when runtime = "podman"');
  });

  await test.step('with runtime = "process" (the default) the module adds nothing of podman: not enabled, no socket settings, the hypervisor\'s user outside the podman group, no podman ordering or variables; with "podman" each is there', async () => {
    const processMode = await evaluateModule({});
    const podmanMode = await evaluateModule({ runtime: 'podman', sandboxImage: 'localhost/choir-sandbox:0.1.0' });
    const traces = { process: podmanTraces(processMode), podman: podmanTraces(podmanMode) };
    await evidence.json('1-process-runtime-no-podman', { runtime: processMode.options.runtime, traces });
    expect(processMode.options.runtime, 'the default runtime').toBe('process');
    expect(traces.process, 'what the process-runtime module holds of podman').toEqual([]);
    // The same reading finds each kind of trace where podman is asked for, so the empty list above is an absence.
    expect(traces.podman.length, `podman traces with runtime = "podman": ${traces.podman.join('; ')}`).toBeGreaterThanOrEqual(6);
  });

  await test.step('with runtime = "podman" the hardened unit may still open unix sockets, as its podman client must to reach CONTAINER_HOST', async () => {
    const evaluation = await evaluateModule({ runtime: 'podman', sandboxImage: 'localhost/choir-sandbox:0.1.0' });
    const families = unitSetting(evaluation.unitText, 'RestrictAddressFamilies');
    await evidence.json('1-podman-address-families', { RestrictAddressFamilies: families, CONTAINER_HOST: evaluation.service.environment.CONTAINER_HOST });
    expect(evaluation.service.environment.CONTAINER_HOST).toMatch(/^unix:\/\//);
    expect(addressFamilyAllowed(evaluation.unitText, 'AF_UNIX'), `RestrictAddressFamilies=${families.join(' ')} lets the unit open AF_UNIX sockets`).toBe(true);
  });

  await test.step("on the host, a process held to every limit of the podman-mode unit connects to a unix socket (journald's, standing in for podman's)", async () => {
    const evaluation = await evaluateModule({ runtime: 'podman', sandboxImage: 'localhost/choir-sandbox:0.1.0' });
    const probe = await connectUnderUnitLimits(host, evaluation.unitText, await packageNode(installedHost.packageBuild.storePath), '/run/systemd/journal/stdout');
    await evidence.command('1-podman-unit-unix-socket', probe.command.join(' '), probe.output);
    expect(probe.exitCode, probe.output).toBe(0);
  });

  await test.step("podman's API socket lets the hypervisor's user in (its group may read and write it) and nobody else", async () => {
    const evaluation = await evaluateModule({ runtime: 'podman', sandboxImage: 'localhost/choir-sandbox:0.1.0' });
    const user = evaluation.users['choiros-hypervisor'];
    await evidence.json('1-podman-socket', { socket: evaluation.podmanSocket, user });
    const mode = Number.parseInt(evaluation.podmanSocket.SocketMode ?? '0666', 8);
    const group = evaluation.podmanSocket.SocketGroup ?? 'root';
    expect(mode & 0o060, `SocketMode ${evaluation.podmanSocket.SocketMode}: the group may read and write`).toBe(0o060);
    expect(mode & 0o007, `SocketMode ${evaluation.podmanSocket.SocketMode}: others may not`).toBe(0);
    expect([user?.group, ...(user?.extraGroups ?? [])], `the socket's group ${group} is one of the hypervisor user's groups`).toContain(group);
    // The host gets its users from the rendered sysusers.d file, so the membership must survive the rendering.
    const members = await sysusersGroupMembers(evaluation.sysusersText);
    await evidence.json('1-podman-sysusers-applied', { sysusers: evaluation.sysusersText, groupMembers: members });
    expect(members[group] ?? [], `the members of ${group} after systemd-sysusers applies the rendered file:\n${evaluation.sysusersText}`).toContain('choiros-hypervisor');
  });

  await test.step('on the host, the service starts, lists and stops a sandbox inside its own unit', async () => {
    const userId = `phase3-${randomBytes(4).toString('hex')}`;
    const started = await admin.start(userId, 'live');
    expect(started.status).toBe('running');
    const health = await fetch(`http://127.0.0.1:${started.port}/health`);
    expect(((await health.json()) as { status: string }).status).toBe('healthy');
    const status = await host.status();
    await evidence.command('2-systemctl-status-with-sandbox', `systemctl status ${hypervisorUnit}`, status);
    // The sandbox process lives in the hypervisor's unit (its cgroup), so systemd stops it with the service.
    const sandboxCgroups = await host.machine.exec(['sh', '-c', 'for p in /proc/[0-9]*; do if tr "\\0" " " < $p/cmdline 2>/dev/null | grep -q "workload/main.ts"; then cat $p/cgroup; fi; done']);
    await evidence.command('2-sandbox-process-cgroups', 'cat /proc/<sandbox pid>/cgroup', sandboxCgroups.stdout);
    expect(sandboxCgroups.stdout).toMatch(/choiros-hypervisor\.service/);
    await admin.stop(userId, 'live');
    expect(await admin.sandbox(userId, 'live')).toMatchObject({ status: 'stopped' });
    await evidence.text('3-runtime-note.txt', 'The sandboxes on this host run with the process runtime: podman was not installed inside the Debian systemd-nspawn machine (nested containers there would need cgroup delegation and a second image store). The podman integration is proven at the module level above, and on this host a transient unit held to every limit of the podman-mode unit connected to a unix socket (journald\'s stdout socket standing in for podman\'s API socket).');
  });
});

test('Externalize env and secrets file references.', async ({ installedHost, evidence }) => {
  await evidence.provenOn(onLocalHost);
  const { host, admin, closure, cloudwatchSecretKey } = installedHost;

  await test.step('the admin token is a credential file reference: not in the unit, its environment or the Nix store', async () => {
    const unitText = await readFile(`${closure.outPath}/etc/systemd/system/${hypervisorUnit}`, 'utf8');
    expect(unitText).toContain(`LoadCredential=admin-token:${adminTokenPath}`);
    expect(unitText).not.toContain(host.adminToken);
    const environment = (await host.unitProperties('Environment')).Environment ?? '';
    expect(environment).not.toContain(host.adminToken);
    expect(environment).not.toMatch(/TOKEN/);
    for (const storePath of closure.paths) {
      // -e: a token may begin with "-" (base64url), which grep would read as options.
      const grep = await host.machine.exec(['grep', '-rlF', '-e', host.adminToken, '--', storePath], { reject: false });
      expect(grep.stdout, `the admin token is in ${storePath}`).toBe('');
      // 1: searched and not found; 2 (an unreadable or missing path) would also print nothing.
      expect(grep.exitCode, `grep could not search ${storePath} inside the host: ${grep.stderr}`).toBe(1);
    }
  });

  await test.step('every secret the unit loads (the admin token, the CloudWatch credentials) reaches the service only through its credentials directory: no Environment value names a source file, each path into it names a loaded credential; in the unit and in the running service', async () => {
    const unitText = (await host.machine.exec(['systemctl', 'cat', hypervisorUnit])).stdout;
    const credentials = loadedCredentials(unitText);
    const pid = (await host.unitProperties('MainPID')).MainPID ?? '';
    const environ = parseEnviron((await host.machine.exec(['cat', `/proc/${pid}/environ`])).stdout);
    const credentialsDir = environ.CREDENTIALS_DIRECTORY ?? '(the service has no CREDENTIALS_DIRECTORY)';
    const pointsIntoCredentials = Object.entries(environ).filter(([, value]) => value.startsWith(`${credentialsDir}/`));
    const unreadable: string[] = [];
    for (const [variable, file] of pointsIntoCredentials) {
      if ((await host.machine.exec(['test', '-f', file], { reject: false })).exitCode !== 0) unreadable.push(`${variable}=${file} is not a file`);
    }
    const inUnit = credentialReferenceProblems(unitEnvironment(unitText), credentials, '%d');
    const inService = credentialReferenceProblems(environ, credentials, credentialsDir);
    await evidence.json('1-credential-references', { note: 'The CloudWatch credentials on this host are made-up keys in a root-only file (fixtures/host-cloudwatch-credentials.ts); nothing is published with them (first batch due after an hour, to a closed loopback port). Checked: the unit as systemd loaded it (systemctl cat) and /proc/<MainPID>/environ of the running service.', credentials, unitEnvironment: unitEnvironment(unitText), credentialsDir, pointsIntoCredentials, inUnit, inService, unreadable });
    expect(credentials.map((c) => c.source), 'the unit loads both secrets as credentials').toEqual(expect.arrayContaining([adminTokenPath, cloudwatchCredentialsPath]));
    // One comparison, so a failure lists what is wrong in the unit and in the running service alike.
    expect({ unitFile: inUnit, runningService: inService, credentialsDirectory: unreadable }, `secrets read other than through the credentials directory (service pid ${pid})`).toEqual({ unitFile: [], runningService: [], credentialsDirectory: [] });
    expect(Object.values(environ).join('\n')).not.toContain(cloudwatchSecretKey);
  });

  await test.step("the running service's WebAuthn origin (the module's default) is the origin a browser reaching it on this host sends: scheme://rpId:port", async () => {
    const pid = (await host.unitProperties('MainPID')).MainPID ?? '';
    const environ = parseEnviron((await host.machine.exec(['cat', `/proc/${pid}/environ`])).stdout);
    const expected = browserOrigin('http', environ.WEBAUTHN_RP_ID ?? '(no WEBAUTHN_RP_ID)', host.port);
    await evidence.json('1-webauthn-origin', { settings: host.settings, WEBAUTHN_RP_ID: environ.WEBAUTHN_RP_ID, WEBAUTHN_RP_ORIGIN: environ.WEBAUTHN_RP_ORIGIN, HYPERVISOR_PORT: environ.HYPERVISOR_PORT, browserOrigin: expected });
    expect(host.settings, 'this host leaves webauthn at its defaults').not.toHaveProperty('webauthn');
    expect(environ.WEBAUTHN_RP_ORIGIN, `WEBAUTHN_RP_ORIGIN of the service listening on port ${host.port}`).toBe(expected);
  });

  await test.step('with adminTokenFile left null (the default: the hypervisor generates its token in its state directory) the unit loads and asserts no credential and sets no token variable; with a file, exactly the admin-token credential and its assertion', async () => {
    const readings = await adminTokenUnitReadings(adminTokenPath);
    await evidence.json('1-admin-token-unset', readings);
    expect(readings.map((r) => ({ adminTokenFile: r.adminTokenFile, loadCredential: r.loadCredential, assertPathExists: r.assertPathExists, tokenVariables: r.tokenVariables })), 'credential lines of the unit per adminTokenFile').toEqual(readings.map((r) => ({ adminTokenFile: r.adminTokenFile, ...expectedAdminTokenLines(r) })));
  });

  await test.step('an admin token file in the Nix store, readable by every user, is refused by the module, naming the option', async () => {
    const inStore = await evaluateModule({ adminTokenFile: '/nix/store/00000000000000000000000000000000-admin-token' });
    const outside = await evaluateModule({ adminTokenFile: adminTokenPath });
    await evidence.json('1-token-in-store-refused', { inStore: inStore.failed, outside: outside.failed });
    expect(inStore.failed.join('\n')).toContain('services.choiros-hypervisor.adminTokenFile (/nix/store/00000000000000000000000000000000-admin-token) is in the Nix store');
    expect(outside.failed).toEqual([]);
  });

  await test.step('the hypervisor read it from $CREDENTIALS_DIRECTORY, and it opens the admin API', async () => {
    // Its stdout reaches the journal through journald, behind the answers the unit gives: read until the line is there.
    const credentialLine = /"source":"credential","file":"\/run\/credentials\/choiros-hypervisor.service\/admin-token"/;
    const journal = await whenLogged(() => host.machine.journal({ unit: hypervisorUnit, lines: 500 }), (read) => credentialLine.test(read));
    expect(journal).toMatch(credentialLine);
    expect(journal).not.toContain(host.adminToken);
    expect(Array.isArray(await admin.sandboxes())).toBe(true);
    const pid = (await host.unitProperties('MainPID')).MainPID ?? '';
    const environ = (await host.machine.exec(['cat', `/proc/${pid}/environ`])).stdout.replace(/\0/g, '\n');
    expect(environ).not.toContain(host.adminToken);
    await evidence.text('1-service-environment.txt', environ.split('\n').filter((line) => /^(HYPERVISOR|SANDBOX|WEBAUTHN|CREDENTIALS)_/.test(line)).join('\n'));
  });

  // Every secret the unit loads, each missing on its own: systemd alone reports only "Protocol error".
  for (const credential of loadedCredentials(await readFile(`${closure.outPath}/etc/systemd/system/${hypervisorUnit}`, 'utf8'))) {
    await test.step(`a missing credential file (${credential.name}, from ${credential.source}): the start fails, its status or journal names the file, and no secret is logged`, async () => {
      const since = (await host.machine.exec(['date', '+%Y-%m-%d %H:%M:%S'])).stdout.trim();
      await host.machine.exec(['mv', credential.source, `${credential.source}.aside`]);
      try {
        const restart = await host.machine.exec(['systemctl', 'restart', hypervisorUnit], { reject: false });
        const status = await host.status();
        // Restart=on-failure (RestartSec=1s) would retry while the file is aside; two such steps in a
        // row can reach the start limit (5 in 10 s) and the restore restart below would be refused.
        await host.machine.exec(['systemctl', 'stop', hypervisorUnit]);
        // systemd's messages reach the journal through journald, after systemctl has returned: read until one names the file.
        const journal = await whenLogged(() => host.machine.journal({ unit: hypervisorUnit, lines: 50, since }), (read) => `${status}\n${read}`.includes(credential.source));
        await evidence.command(`2-missing-credential-${credential.name}`, `mv ${credential.source} aside; systemctl restart ${hypervisorUnit}; systemctl status; systemctl stop; journalctl -u --since`, `exit ${restart.exitCode}\n${restart.stderr}\n${status}\n${journal}`);
        expect(restart.exitCode, `systemctl restart with ${credential.source} missing`).not.toBe(0);
        expect(`${status}\n${journal}`, `the status or journal since the restart names ${credential.source}`).toContain(credential.source);
        for (const secret of [host.adminToken, cloudwatchSecretKey]) expect(journal).not.toContain(secret);
      } finally {
        await host.machine.exec(['mv', `${credential.source}.aside`, credential.source]);
        // Clears the failed starts counted against the start limit, so this restart is not refused.
        await host.machine.exec(['systemctl', 'reset-failed', hypervisorUnit]);
        await host.machine.exec(['systemctl', 'restart', hypervisorUnit]);
      }
      expect((await host.waitHealthy()).status).toBe('healthy');
    });
  }
});
