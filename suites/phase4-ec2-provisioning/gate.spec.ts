import { AuthorizeSecurityGroupIngressCommand, CreateTagsCommand, ModifyInstanceAttributeCommand, ModifyVolumeCommand, StartInstancesCommand, StopInstancesCommand, waitUntilInstanceRunning, waitUntilInstanceStopped } from '@aws-sdk/client-ec2';
import { buildTargetGeneration } from '../../deploy/cli.ts';
import { ingressOf } from '../../provisioning/security-group.ts';
import { CommandTranscript } from '../../deploy/command-transcript.ts';
import { HostAccess } from '../../deploy/host-access.ts';
import { readDeploySection } from '../../gate-runner/deploy-section.ts';
import { rootVolume, runningInstances, targetSecurityGroup } from '../../fixtures/account-readings.ts';
import { describedAws } from '../../fixtures/described-aws.ts';
import { anotherDeployKey, importedPublicKey } from '../../fixtures/imported-key-pair.ts';
import type { CliRun } from '../../fixtures/cli-run.ts';
import { runningUnits } from '../../fixtures/running-units.ts';
import { crashUnit, type UnitCrash } from '../../fixtures/unit-crash.ts';
import { waitForHealth } from '../../deploy/health.ts';
import { hostAddressProblems, readHostAddress } from '../../fixtures/host-address.ts';
import { DescriptionFields } from '../../gate-runner/description-fields.ts';
import { provenOnStandIns, rebootLineTimeoutMs, test, expect } from '../../fixtures/phase4.ts';

test('EC2 host converges from declarative config.', async ({ phase4Host, evidence }) => {
  await evidence.provenOn(provenOnStandIns);
  const { target } = phase4Host;
  const deploy = readDeploySection(new DescriptionFields(target.file, target.description).section('deploy'));
  if (!deploy) throw new Error('the Phase 4 target has no deploy section');

  const declared = await test.step('the generation the description and this checkout declare', async () => buildTargetGeneration(deploy, new CommandTranscript()));

  await test.step('the host runs exactly that generation, its units active', async () => {
    const active = (await target.machine.exec(['readlink', '-e', deploy.profile])).stdout.trim();
    const units = (await target.machine.exec(['systemctl', 'is-active', 'choiros-hypervisor.service', 'choiros-caddy.service'], { reject: false })).stdout;
    const unitFile = (await target.machine.exec(['readlink', '-f', '/etc/systemd/system/choiros-hypervisor.service'])).stdout.trim();
    await evidence.json('converged', { declared, active, units: units.trim().split('\n'), unitFile });
    expect(active).toBe(declared);
    expect(units.trim().split('\n')).toEqual(['active', 'active']);
    expect(unitFile.startsWith(`${declared}/`)).toBe(true);
    expect((await phase4Host.health()).healthy).toBe(true);
  });

  await test.step("systemd runs that generation's units: what it loaded and what their processes were started with, not only the links", async () => {
    const host = await HostAccess.open(deploy);
    try {
      const units = await runningUnits(host, declared);
      await evidence.json('running-units', { generation: declared, units });
      expect(units.map((u) => [u.unit, u.differences])).toEqual(units.map((u) => [u.unit, []]));
    } finally {
      await host.close();
    }
  });

  await test.step("the account the first apply left: the host name points at the instance's public address as DescribeInstances reports it, never a private one", async () => {
    await evidence.json('first-apply-address', phase4Host.firstApplyAddress);
    expect(hostAddressProblems(phase4Host.firstApplyAddress)).toEqual([]);
  });

  await test.step('drift on the host (the hypervisor stopped by hand) converges back with one deploy', async () => {
    await target.machine.exec(['systemctl', 'stop', 'choiros-hypervisor.service']);
    expect((await phase4Host.health()).healthy).toBe(false);
    const converged = await phase4Host.deploy('switch');
    await evidence.command('deploy-after-drift', converged.commandLine, converged.output);
    expect(converged.exitCode).toBe(0);
    expect(converged.output).toContain('[activate]');
    expect((await phase4Host.health()).healthy).toBe(true);
  });

  await test.step("a crash of the hypervisor or of Caddy (the main process killed, no stop asked) is undone by systemd on its own, without a deploy, and the host answers healthy again", async () => {
    const hypervisorBoot = (await phase4Host.health()).bootId;
    const crashes: UnitCrash[] = [];
    for (const unit of ['choiros-hypervisor.service', 'choiros-caddy.service']) crashes.push(await crashUnit(target.machine, unit));
    // The target's own health bound, as every deploy waits: systemd's restart bound is crashUnit's.
    const { reading } = await waitForHealth(target.healthUrl, deploy.healthTimeoutSecs * 1000, hypervisorBoot);
    await evidence.json('unit-crashes', { crashes, health: reading });
    expect(crashes.map((c) => [c.unit, c.recovered]), JSON.stringify(crashes)).toEqual(crashes.map((c) => [c.unit, true]));
    expect(reading.healthy).toBe(true);
    expect(reading.bootId, 'a new hypervisor process answers').not.toBe(hypervisorBoot);
  });

  await test.step('drift in the account (the root volume\'s IOPS changed by hand) is planned and converges back with one apply', async () => {
    const { ec2 } = phase4Host;
    const rootVolumeNow = async () => rootVolume(ec2, (await runningInstances(ec2, target.name))[0]);
    const declared = describedAws(target).rootVolume;
    const before = await rootVolumeNow();
    expect(before).toMatchObject({ VolumeType: 'gp3', Size: declared.sizeGiB, Iops: declared.iops });
    await ec2.send(new ModifyVolumeCommand({ VolumeId: before?.VolumeId, Iops: declared.iops + 1000 }));
    expect((await rootVolumeNow())?.Iops, 'the drift took').toBe(declared.iops + 1000);
    const plan = await phase4Host.provision('plan');
    const apply = await phase4Host.provision('apply');
    const after = await rootVolumeNow();
    await evidence.json('account-drift', { declared, before, drifted: declared.iops + 1000, after });
    await evidence.command('provision-after-drift', `${plan.commandLine}; ${apply.commandLine}`, `${plan.output}\n${apply.output}`);
    expect(plan.exitCode).toBe(0);
    expect(plan.output).toContain(`${declared.iops + 1000} IOPS -> gp3 ${declared.sizeGiB} GiB ${declared.iops} IOPS`);
    expect(apply.exitCode).toBe(0);
    expect(after).toMatchObject({ VolumeId: before?.VolumeId, VolumeType: 'gp3', Size: declared.sizeGiB, Iops: declared.iops });
  });

  await test.step("drift in the account (the root volume switched to gp2 by hand) is planned as a change of the volume's type and converges back to gp3 with one apply, the same volume; a plan after it has nothing left for the volume", async () => {
    const { ec2 } = phase4Host;
    const rootVolumeNow = async () => rootVolume(ec2, (await runningInstances(ec2, target.name))[0]);
    const declared = describedAws(target).rootVolume;
    const before = await rootVolumeNow();
    expect(before).toMatchObject({ VolumeType: 'gp3', Size: declared.sizeGiB, Iops: declared.iops });
    // gp2, the type gp3 replaced (an older template, or a console click). Only the type is asked to change and moto keeps the size and IOPS, so only a check of the type sees it.
    await ec2.send(new ModifyVolumeCommand({ VolumeId: before?.VolumeId, VolumeType: 'gp2' }));
    const drifted = await rootVolumeNow();
    expect(drifted?.VolumeType, 'the drift took').toBe('gp2');
    const plan = await phase4Host.provision('plan');
    const apply = await phase4Host.provision('apply');
    const after = await rootVolumeNow();
    const again = await phase4Host.provision('plan');
    await evidence.json('root-volume-type-drift', { declared: { type: 'gp3', ...declared }, before, drifted, after });
    await evidence.command('provision-after-volume-type-drift', `${plan.commandLine}; ${apply.commandLine}; ${again.commandLine}`, `${plan.output}\n${apply.output}\n${again.output}`);
    const volumeChange = `root volume ${before?.VolumeId ?? '?'}: `;
    expect(plan.exitCode).toBe(0);
    // The change as the plan words it (type, size, IOPS -> declared), read for its type only: the property, not the sentence.
    expect(plan.output, 'the plan names the root volume going from gp2 back to gp3').toMatch(new RegExp(`${volumeChange}gp2 [^;|)]*-> gp3 `));
    expect(apply.exitCode).toBe(0);
    expect(after, 'the same volume, back at the declared type, size and IOPS').toMatchObject({ VolumeId: before?.VolumeId, VolumeType: 'gp3', Size: declared.sizeGiB, Iops: declared.iops });
    expect(again.exitCode).toBe(0);
    expect(again.output, 'a plan after the apply has nothing left to change for the root volume').not.toContain(volumeChange);
  });

  await test.step("drift in the account (the hypervisor's port opened to the world and a tag changed, by hand) is planned, left alone by the plan, and converges back with one apply", async () => {
    const { ec2 } = phase4Host;
    const aws = describedAws(target);
    const group = () => targetSecurityGroup(ec2, target.name);
    const instanceTags = async () => (await runningInstances(ec2, target.name))[0]?.Tags ?? [];
    const [tagKey = 'project', tagValue = ''] = Object.entries(aws.tags)[0] ?? [];
    const before = await group();
    const wanted = ingressOf(before ?? {}).sort();
    const open = { IpProtocol: 'tcp', FromPort: deploy.routing.hypervisorPort, ToPort: deploy.routing.hypervisorPort, IpRanges: [{ CidrIp: '0.0.0.0/0' }] };
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: before?.GroupId, IpPermissions: [open] }));
    await ec2.send(new CreateTagsCommand({ Resources: [(await runningInstances(ec2, target.name))[0]?.InstanceId ?? ''], Tags: [{ Key: tagKey, Value: `${tagValue}-drifted` }] }));
    const publicRule = `tcp:${deploy.routing.hypervisorPort}:0.0.0.0/0`;
    expect(ingressOf((await group()) ?? {}), 'the drift took').toContain(publicRule);
    const plan = await phase4Host.provision('plan');
    const afterPlan = { rules: ingressOf((await group()) ?? {}), tags: await instanceTags() };
    const apply = await phase4Host.provision('apply');
    const after = { rules: ingressOf((await group()) ?? {}).sort(), tags: await instanceTags() };
    await evidence.json('security-group-and-tag-drift', { wanted, drifted: publicRule, tag: { key: tagKey, value: tagValue }, afterPlan, after });
    await evidence.command('provision-after-group-and-tag-drift', `${plan.commandLine}; ${apply.commandLine}`, `${plan.output}\n${apply.output}`);
    expect(plan.exitCode).toBe(0);
    expect(plan.output).toContain(`revoke ${publicRule} (opens the hypervisor's port`);
    expect(plan.output).toContain(`tag ${tagKey}: ${tagValue}-drifted -> ${tagValue}`);
    expect(afterPlan.rules, 'a plan changes nothing').toContain(publicRule);
    expect(afterPlan.tags.find((t) => t.Key === tagKey)?.Value, 'a plan changes nothing').toBe(`${tagValue}-drifted`);
    expect(apply.exitCode).toBe(0);
    expect(after.rules, 'the group holds exactly the rules it held before the drift').toEqual(wanted);
    expect(after.tags.find((t) => t.Key === tagKey)?.Value).toBe(tagValue);
  });

  await test.step("a changed description (aws.keyPair.publicKeyFile names another key) is planned as the key pair's replacement, one apply imports the new key, and a plan after it has nothing left for the key pair; the original key comes back after", async () => {
    const { ec2 } = phase4Host;
    // The raw section, not describedAws: this step edits the description as written and writes it back.
    const aws = target.description.aws as { keyPair: { name: string; publicKeyFile: string } };
    const { name } = aws.keyPair;
    const original = aws.keyPair.publicKeyFile;
    const before = await importedPublicKey(ec2, name);
    const rotated = await anotherDeployKey(target.dir, 'rotated-deploy-key');
    expect(rotated.material, 'the new key is another key').not.toBe(before);
    aws.keyPair.publicKeyFile = rotated.publicKeyFile;
    await target.write();
    let plan: CliRun;
    let apply: CliRun;
    let imported: string;
    let again: CliRun;
    try {
      plan = await phase4Host.provision('plan');
      apply = await phase4Host.provision('apply');
      imported = await importedPublicKey(ec2, name);
      again = await phase4Host.provision('plan');
    } finally {
      // Later lines (the launch line reads the key pair) expect the description's own deploy key.
      aws.keyPair.publicKeyFile = original;
      await target.write();
    }
    const restore = await phase4Host.provision('apply');
    const restored = await importedPublicKey(ec2, name);
    await evidence.json('key-pair-change', { keyPair: name, original: { publicKeyFile: original, material: before }, changed: rotated, importedAfterApply: imported, restored });
    await evidence.command('provision-after-key-change', [plan, apply, again, restore].map((r) => r.commandLine).join('; '), [plan, apply, again, restore].map((r) => r.output).join('\n'));
    expect(plan.exitCode).toBe(0);
    expect(plan.output, 'the plan names the key pair as replaced').toContain(`key pair ${name}: replace`);
    expect(apply.exitCode).toBe(0);
    expect(imported, `the public key EC2 holds as ${name} after the apply`).toBe(rotated.material);
    expect(again.exitCode).toBe(0);
    const keyPairChanges = again.output.split('\n').filter((line) => line.includes(`key pair ${name}: `) && !line.includes(`key pair ${name}: no change`));
    expect(keyPairChanges, 'a plan after the apply has nothing left to change for the key pair').toEqual([]);
    expect(restore.exitCode).toBe(0);
    expect(restored, 'the original key is back').toBe(before);
  });

  await test.step("drift in the account (the instance's type changed by hand: stop, modify, start) is planned and converges back with one apply, the same instance", async () => {
    const { ec2 } = phase4Host;
    const declared = describedAws(target).instanceType;
    // Another size of the declared family (t3a.large -> t3a.xlarge), so the drift is one an operator could make.
    const [family] = declared.split('.');
    const drifted = `${family}.${declared.endsWith('.xlarge') ? '2xlarge' : 'xlarge'}`;
    const before = (await runningInstances(ec2, target.name))[0];
    expect(before?.InstanceType, 'the running instance has the declared type').toBe(declared);
    const ids = { InstanceIds: [before?.InstanceId ?? ''] };
    const waiter = { client: ec2, maxWaitTime: 120, minDelay: 1, maxDelay: 2 };
    await ec2.send(new StopInstancesCommand(ids));
    await waitUntilInstanceStopped(waiter, ids);
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: before?.InstanceId, InstanceType: { Value: drifted } }));
    await ec2.send(new StartInstancesCommand(ids));
    await waitUntilInstanceRunning(waiter, ids);
    expect((await runningInstances(ec2, target.name))[0]?.InstanceType, 'the drift took').toBe(drifted);
    const plan = await phase4Host.provision('plan');
    const apply = await phase4Host.provision('apply');
    const after = (await runningInstances(ec2, target.name))[0];
    const again = await phase4Host.provision('plan');
    await evidence.json('instance-type-drift', { declared, drifted, before: { id: before?.InstanceId, type: before?.InstanceType }, after: { id: after?.InstanceId, type: after?.InstanceType } });
    await evidence.command('provision-after-type-drift', `${plan.commandLine}; ${apply.commandLine}; ${again.commandLine}`, `${plan.output}\n${apply.output}\n${again.output}`);
    expect(plan.exitCode).toBe(0);
    expect(plan.output).toContain(`instance type: ${drifted} -> ${declared}`);
    expect(apply.exitCode).toBe(0);
    expect({ id: after?.InstanceId, type: after?.InstanceType }, 'the same instance, back at the declared type').toEqual({ id: before?.InstanceId, type: declared });
    expect(again.exitCode).toBe(0);
    expect(again.output, 'a plan after the apply has nothing left to change for the instance').not.toContain('instance type:');
    const { dns } = describedAws(target);
    const address = await readHostAddress(ec2, phase4Host.route53, { name: target.name, ...dns });
    await evidence.json('address-after-type-drift', address);
    expect(hostAddressProblems(address), 'after the stop and start, the host name follows the public address').toEqual([]);
  });
});

test('Hypervisor remains healthy across reboot.', async ({ phase4Host, evidence }) => {
  // Above the reboot's own bounds (shutdown 60 s, boot 60 s, health 45 s: host/machine.ts, fixtures/phase4.ts), so a
  // host that does not come back fails with what did not, never with this line's timeout.
  test.setTimeout(rebootLineTimeoutMs);
  await evidence.provenOn({ place: 'a systemd-nspawn Debian host on this machine, rebooted for real', standIn: provenOnStandIns.standIn });
  // On AWS this is RebootInstances; moto boots nothing, so the systemd host standing in reboots itself.
  const rebooted = await test.step('reboot the host: its systemd shuts down and a new boot starts', () => phase4Host.reboot());
  await evidence.json('reboot', rebooted);
  evidence.timing('reboot to healthy', rebooted.rebootToHealthyMs);

  await test.step('a new boot, the hypervisor back on its own, /health healthy', async () => {
    expect(rebooted.after.bootIdentity).not.toBe(rebooted.before.bootIdentity);
    expect(rebooted.after.invocationId).not.toBe(rebooted.before.invocationId);
    expect(rebooted.after.health.healthy).toBe(true);
    expect(rebooted.after.health.bootId).not.toBe(rebooted.before.health.bootId);
    expect((await phase4Host.health()).healthy).toBe(true);
  });

  await test.step("the user's sandbox record and route pointers are unchanged", async () => {
    expect(rebooted.before.sandboxes.map((s) => [s.user_id, s.role])).toEqual([[rebooted.user, 'live']]);
    expect(rebooted.after.sandboxes.map((s) => [s.user_id, s.role])).toEqual([[rebooted.user, 'live']]);
    expect(rebooted.after.pointers).toEqual(rebooted.before.pointers);
  });
});
