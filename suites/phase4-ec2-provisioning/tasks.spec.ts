import { readFile } from 'node:fs/promises';
import { DescribeKeyPairsCommand } from '@aws-sdk/client-ec2';
import { ChangeResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { publicRulesFor, ingressOf } from '../../provisioning/security-group.ts';
import { aRecord, hostedZoneId, rootVolume, runningInstances, targetSecurityGroup } from '../../fixtures/account-readings.ts';
import { describedAws } from '../../fixtures/described-aws.ts';
import { testHostedZone } from '../../fixtures/aws-target.ts';
import { motoCredentialsEnv, motoStandIn } from '../../fixtures/moto-server.ts';
import { runCli } from '../../fixtures/cli-run.ts';
import { runCliOnTerminal } from '../../fixtures/terminal-run.ts';
import { writeNeighbourTarget } from '../../fixtures/neighbour-target.ts';
import { provenOnStandIns, test, expect } from '../../fixtures/phase4.ts';
import { failedDeployTranscript } from '../../fixtures/failed-deploy-transcript.ts';
import { caddyfile, hypervisorEnvironment, stateDir } from '../../deploy/generation.ts';
import { caddyReading } from '../../fixtures/caddy-reading.ts';
import { acmeContact, defaultedFieldsOf, documentedDeployDefaults, withoutDefaultedDeployFields } from '../../fixtures/deploy-defaults.ts';
import { refusalsOf, type RefusedChange } from '../../fixtures/description-refusals.ts';
import { getVia, peerChain, sendVia } from '../../fixtures/tls-probe.ts';
import { permanentKeepingMethod, redirectSemantics } from '../../fixtures/redirect-semantics.ts';
import { hostAddressProblems, hostRecordTtlSecs, readHostAddress } from '../../fixtures/host-address.ts';
import { registerThroughHost } from '../../fixtures/host-passkey.ts';
import { AdminClient } from '../../hypervisor/admin-client/admin-client.ts';
import { buildTargetGeneration } from '../../deploy/cli.ts';
import { CommandTranscript } from '../../deploy/command-transcript.ts';
import { HostAccess } from '../../deploy/host-access.ts';
import { readDeploySection } from '../../gate-runner/deploy-section.ts';
import { DescriptionFields } from '../../gate-runner/description-fields.ts';
import { resolveSecret } from '../../gate-runner/secret-ref.ts';
import { metadataExposures } from '../../fixtures/instance-metadata.ts';
import { runningUnits } from '../../fixtures/running-units.ts';
import { secretExposures, secretPlacement } from '../../fixtures/secret-placement.ts';
import { accountResources, tagProblems } from '../../fixtures/account-resources.ts';
import { heldResources, inventoryProblems, printedTranscriptFile } from '../../fixtures/provisioning-inventory.ts';

test('Launch initial target host (`t3a.large`, `us-east-1`, `gp3` volume).', async ({ phase4Host, evidence }) => {
  await evidence.provenOn({ place: `moto on ${phase4Host.moto.endpoint}`, standIn: motoStandIn });
  const { ec2, route53, target } = phase4Host;
  await evidence.command('provision-apply', phase4Host.provisioning.commandLine, phase4Host.provisioning.output);

  const instance = await test.step('the tagged instance is a t3a.large in us-east-1 from the described AMI', async () => {
    const instances = await runningInstances(ec2, target.name);
    expect(instances).toHaveLength(1);
    const [only] = instances;
    expect(only?.InstanceType).toBe('t3a.large');
    expect(only?.Placement?.AvailabilityZone).toMatch(/^us-east-1[a-z]$/);
    expect(only?.ImageId).toBe(describedAws(target).ami);
    await evidence.json('instance', only);
    return only;
  });

  await test.step('its metadata service answers IMDSv2 only (session tokens required, one hop), as the EC2 API reports the running instance', async () => {
    await evidence.json('instance-metadata-options', instance?.MetadataOptions ?? null);
    expect(metadataExposures(instance?.MetadataOptions), `the metadata options of ${instance?.InstanceId ?? 'the instance'}`).toEqual([]);
  });

  await test.step('its root volume is gp3 with the described size and IOPS, encrypted, and deleted with the instance', async () => {
    const volume = await rootVolume(ec2, instance);
    const mapping = instance?.BlockDeviceMappings?.find((m) => m.DeviceName === instance.RootDeviceName);
    await evidence.json('root-volume', { volume, mapping });
    expect(volume).toMatchObject({ VolumeType: 'gp3', Size: 50, Iops: 3000 });
    expect(volume?.Encrypted, `${volume?.VolumeId ?? 'the root volume'} is encrypted at rest`).toBe(true);
    // The transcript says "(deleted with the instance)", and destroy removes no volume of its own: one left behind keeps costing.
    expect(mapping?.Ebs?.DeleteOnTermination, `${volume?.VolumeId ?? 'the root volume'} goes when the instance is terminated`).toBe(true);
  });

  await test.step('a description that leaves out instanceType and rootVolume launches with the documented defaults (targets/README.md: t3a.large; gp3 50 GiB, 3000 IOPS)', async () => {
    const { rootVolume: _volume, instanceType: _type, ...rest } = target.description.aws as Record<string, unknown>;
    const defaulted = describedAws({ file: `${target.file} (without aws.rootVolume and aws.instanceType)`, description: { ...target.description, aws: rest } });
    await evidence.json('described-defaults', { instanceType: defaulted.instanceType, rootVolume: defaulted.rootVolume });
    expect({ instanceType: defaulted.instanceType, rootVolume: defaulted.rootVolume }).toEqual({ instanceType: 't3a.large', rootVolume: { sizeGiB: 50, iops: 3000 } });
    // A rootVolume section that names only one field (or none) gets the documented default for the others.
    const partly = (rootVolume: Record<string, number>) => describedAws({ file: `${target.file} (aws.rootVolume ${JSON.stringify(rootVolume)})`, description: { ...target.description, aws: { ...rest, rootVolume } } }).rootVolume;
    const partial = { empty: partly({}), sizeOnly: partly({ sizeGiB: 100 }), iopsOnly: partly({ iops: 4000 }) };
    await evidence.json('described-defaults-partial-root-volume', partial);
    expect(partial).toEqual({ empty: { sizeGiB: 50, iops: 3000 }, sizeOnly: { sizeGiB: 100, iops: 3000 }, iopsOnly: { sizeGiB: 50, iops: 4000 } });
  });

  await test.step('a description naming a region, instance type or AMI the account does not have is refused by apply naming that field and its value, and nothing is created for it', async () => {
    const described = target.description.aws as Record<string, unknown>;
    const bad = [
      { field: 'aws.region', value: 'us-nowhere-1' },
      { field: 'aws.instanceType', value: 't3a.nonesuch' },
      { field: 'aws.ami', value: 'ami-00000000deadbeef0' },
    ];
    const results = [];
    for (const [index, { field, value }] of bad.entries()) {
      const neighbour = await writeNeighbourTarget({ ...described, [field.slice('aws.'.length)]: value }, target.dir, `${target.name}-bad-${index}`);
      try {
        const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', GATE_TARGET: neighbour.name, GATE_TARGETS_DIR: neighbour.dir, PROVISIONING_TRANSCRIPT_DIR: phase4Host.transcriptDir, ...motoCredentialsEnv };
        const applied = await runCli('provisioning/main.ts', ['apply', '--yes'], env);
        await evidence.command(`provision-apply-bad-${field}`, applied.commandLine, applied.output);
        const created = (await accountResources(ec2, neighbour.name)).filter((r) => r.id !== undefined).map((r) => `${r.kind} ${r.id ?? ''}`);
        const record = (await aRecord(route53, await hostedZoneId(route53, testHostedZone), neighbour.hostName))?.ResourceRecords?.map((r) => r.Value) ?? [];
        results.push({ field, exitCode: applied.exitCode, namesIt: applied.output.includes(`${field} is "${value}"`), created: [...created, ...record.map((v) => `A record -> ${v}`)] });
      } finally {
        await neighbour.close();
      }
    }
    await evidence.json('bad-input-refused', results);
    expect(results).toEqual(bad.map(({ field }) => ({ field, exitCode: 1, namesIt: true, created: [] })));
  });

  await test.step('on a terminal, apply (without --yes) shows the plan and asks before changing anything: answered "no", nothing is created', async () => {
    const neighbour = await writeNeighbourTarget(target.description.aws as Record<string, unknown>, target.dir, `${target.name}-asked`);
    try {
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', GATE_TARGET: neighbour.name, GATE_TARGETS_DIR: neighbour.dir, PROVISIONING_TRANSCRIPT_DIR: phase4Host.transcriptDir, ...motoCredentialsEnv };
      const asked = await runCliOnTerminal('provisioning/main.ts', ['apply'], env, 'no');
      await evidence.command('provision-apply-on-a-terminal', asked.commandLine, asked.output);
      const created = (await accountResources(ec2, neighbour.name)).filter((r) => r.id !== undefined).map((r) => `${r.kind} ${r.id ?? ''}`);
      const record = (await aRecord(route53, await hostedZoneId(route53, testHostedZone), neighbour.hostName))?.ResourceRecords?.map((r) => r.Value) ?? [];
      expect(asked.output, 'the plan is shown before the question').toMatch(new RegExp(`instance ${neighbour.name}-host: create[\\s\\S]*apply these changes\\? \\(yes/no\\)`));
      expect(asked.output).toContain('not confirmed: nothing applied');
      expect([...created, ...record], `what exists for ${neighbour.name} after answering no`).toEqual([]);
    } finally {
      await neighbour.close();
    }
  });

  await test.step('a flag the usage does not give (destroy --dry-run, apply --force, plan --json) or a command it does not list is refused with the usage (exit 2) before anything runs: this target\'s resources and record are all still there', async () => {
    const ours = async () => ({ resources: (await accountResources(ec2, target.name)).map((r) => [r.kind, r.id ?? null]), record: (await aRecord(route53, await hostedZoneId(route53, testHostedZone), describedAws(target).dns.hostName))?.ResourceRecords?.map((r) => r.Value) ?? [] });
    const before = await ours();
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', GATE_TARGET: target.name, GATE_TARGETS_DIR: target.dir, PROVISIONING_TRANSCRIPT_DIR: phase4Host.transcriptDir, ...motoCredentialsEnv };
    const misuses = [['destroy', '--dry-run'], ['apply', '--force'], ['plan', '--json'], ['destroy', '--yes', '--dry-run'], ['teardown']];
    const runs = [];
    for (const args of misuses) runs.push({ args: args.join(' '), run: await runCli('provisioning/main.ts', args, env) });
    const after = await ours();
    await evidence.json('provision-usage-refusals', { runs: runs.map(({ args, run }) => ({ args, exitCode: run.exitCode, output: run.output })), before, after });
    expect(before.resources.every(([, id]) => id !== null) && before.record.length === 1, 'this target was provisioned in full before the refused commands').toBe(true);
    expect(runs.map(({ args, run }) => ({ args, exitCode: run.exitCode, usage: run.output.includes('usage: GATE_TARGET=<name> npm run provision -- plan|apply|destroy') }))).toEqual(misuses.map((args) => ({ args: args.join(' '), exitCode: 2, usage: true })));
    expect(after, "this target's resources and record after the refused commands").toEqual(before);
  });

  await test.step("it boots with the described key pair, whose public key is the description's public key file (the deploy key's public half)", async () => {
    const aws = describedAws(target);
    // The described key pair, not the instance's: a launch without a key then fails on the name below, not with "not found".
    const [key] = (await ec2.send(new DescribeKeyPairsCommand({ KeyNames: [aws.keyPair.name], IncludePublicKey: true }))).KeyPairs ?? [];
    const file = (await readFile(aws.keyPair.publicKeyFile, 'utf8')).trim();
    await evidence.json('key-pair', { instanceKeyName: instance?.KeyName, keyPair: key, publicKeyFile: aws.keyPair.publicKeyFile });
    expect(instance?.KeyName, `the key pair ${instance?.InstanceId ?? 'the instance'} was launched with`).toBe(aws.keyPair.name);
    const material = (text: string | undefined) => (text ?? '').trim().split(/\s+/).slice(0, 2).join(' ');
    expect(material(key?.PublicKey), `the public key EC2 holds as ${aws.keyPair.name}`).toBe(material(file));
  });

  await test.step("the instance, its root volume, the security group and the key pair each carry choiros:target=<name>, a Name, and the description's tags", async () => {
    const resources = await accountResources(ec2, target.name);
    await evidence.json('resource-tags', resources);
    expect(tagProblems(resources, target.name, describedAws(target).tags)).toEqual([]);
  });

  await test.step("the apply's transcript lists every resource the account holds, each with the command that removes it, and the command that removes them all", async () => {
    const file = printedTranscriptFile(phase4Host.provisioning.output);
    expect(file, 'the apply printed where its transcript is').toBeDefined();
    const text = await readFile(file ?? '', 'utf8');
    await evidence.text('provisioning-transcript.txt', text);
    const { dns, region } = describedAws(target);
    const ids = Object.fromEntries((await accountResources(ec2, target.name)).map((r) => [r.kind, r.id ?? '(none)']));
    expect(inventoryProblems(text, heldResources(ids, dns.hostName), region, target.name)).toEqual([]);
  });

  await test.step("a failed apply keeps its transcript too (README: also after a failure): the file its error names holds the failure, every resource the account still holds with the command that removes it, and the command that removes them all", async () => {
    const aws = target.description.aws as { instanceType?: string };
    const described = aws.instanceType;
    aws.instanceType = 't3a.nonesuch';
    await target.write();
    let failed: Awaited<ReturnType<typeof runCli>>;
    try {
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', GATE_TARGET: target.name, GATE_TARGETS_DIR: target.dir, PROVISIONING_TRANSCRIPT_DIR: phase4Host.transcriptDir, ...motoCredentialsEnv };
      failed = await runCli('provisioning/main.ts', ['apply', '--yes'], env);
    } finally {
      if (described === undefined) delete aws.instanceType;
      else aws.instanceType = described;
      await target.write();
    }
    await evidence.command('provision-apply-failed', failed.commandLine, failed.output);
    expect(failed.exitCode, failed.output).toBe(1);
    const file = /transcript \(what exists now, and the command that removes it\): (\S+\.txt)/.exec(failed.output)?.[1];
    expect(file, 'the failed apply names its transcript').toBeDefined();
    const text = await readFile(file ?? '', 'utf8');
    await evidence.text('provisioning-transcript-failed.txt', text);
    expect(text, 'the transcript names the failure').toContain('\nFAILED: ');
    expect(text, 'the failure names the field and its value').toContain('aws.instanceType is "t3a.nonesuch"');
    const { dns, region } = describedAws(target);
    const ids = Object.fromEntries((await accountResources(ec2, target.name)).map((r) => [r.kind, r.id ?? '(none)']));
    expect(inventoryProblems(text, heldResources(ids, dns.hostName), region, target.name)).toEqual([]);
  });

  await test.step('a second apply finds the tagged resources and changes nothing', async () => {
    const again = await phase4Host.provision('apply');
    await evidence.command('provision-apply-again', again.commandLine, again.output);
    expect(again.exitCode).toBe(0);
    expect(again.output).toContain('nothing to change: every resource matches the description');
  });

  await test.step("a neighbour target in the same account, provisioned and then destroyed: nothing tagged for it is left, its DNS record is gone, and this target's resources and record are untouched", async () => {
    const neighbour = await writeNeighbourTarget(target.description.aws as Record<string, unknown>, target.dir, `${target.name}-neighbour`);
    try {
      const ours = async () => ({ resources: (await accountResources(ec2, target.name)).map((r) => [r.kind, r.id]), record: (await readHostAddress(ec2, route53, { name: target.name, hostedZone: testHostedZone, hostName: describedAws(target).dns.hostName })).recordValues });
      const before = await ours();
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', GATE_TARGET: neighbour.name, GATE_TARGETS_DIR: neighbour.dir, PROVISIONING_TRANSCRIPT_DIR: phase4Host.transcriptDir, ...motoCredentialsEnv };
      const applied = await runCli('provisioning/main.ts', ['apply', '--yes'], env);
      const theirs = async () => ({ resources: (await accountResources(ec2, neighbour.name)).map((r) => [r.kind, r.id ?? null]), record: (await aRecord(route53, await hostedZoneId(route53, testHostedZone), neighbour.hostName))?.ResourceRecords?.map((r) => r.Value) ?? [] });
      const provisioned = await theirs();
      const destroyed = await runCli('provisioning/main.ts', ['destroy'], env);
      const left = await theirs();
      const after = await ours();
      await evidence.json('neighbour-destroy', { neighbour: neighbour.name, provisioned, left, ours: { before, after } });
      await evidence.command('neighbour-apply-and-destroy', `${applied.commandLine}; ${destroyed.commandLine}`, `${applied.output}\n${destroyed.output}`);
      expect(applied.exitCode, applied.output).toBe(0);
      expect(provisioned.resources.every(([, id]) => id !== null) && provisioned.record.length === 1, 'the neighbour was provisioned in full').toBe(true);
      expect(destroyed.exitCode, destroyed.output).toBe(0);
      expect(left, `what is left tagged choiros:target=${neighbour.name}, and its A record`).toEqual({ resources: provisioned.resources.map(([kind]) => [kind, null]), record: [] });
      expect(after, "this target's resources and record").toEqual(before);
    } finally {
      await neighbour.close();
    }
  });
});

test('Configure network policy, DNS, and TLS routing.', async ({ phase4Host, evidence, playwright, launchOptions }) => {
  await evidence.provenOn(provenOnStandIns);
  const { ec2, route53, target } = phase4Host;
  const aws = describedAws(target);
  const { hypervisorPort } = (target.description.deploy as { routing: { hypervisorPort: number } }).routing;

  await test.step('security group: SSH only from the configured CIDRs, 80 and 443 open, the hypervisor port never public', async () => {
    const group = await targetSecurityGroup(ec2, target.name);
    const rules = ingressOf(group ?? {});
    await evidence.json('security-group', { GroupId: group?.GroupId, ingress: rules });
    expect(rules.filter((r) => r.startsWith('tcp:22:')).sort(), 'SSH from every configured block, and only from them').toEqual(aws.sshCidrs.map((c) => `tcp:22:${c}`).sort());
    for (const port of [80, 443]) expect(rules).toEqual(expect.arrayContaining([`tcp:${port}:0.0.0.0/0`, `tcp:${port}:::/0`]));
    expect(publicRulesFor(group ?? {}, hypervisorPort)).toEqual([]);
    expect(rules).toHaveLength(aws.sshCidrs.length + 4);
  });

  await test.step("a description that would open SSH to the world (either family), to nobody or to a bare address, give the hypervisor a port the security group or Caddy opens, keep it in aws, point DNS outside its zone, ask for ACME without a contact or for another tls mode, or hold the admin token inline is refused, naming the file and the field (targets/README.md)", async () => {
    const aws = (d: Record<string, unknown>) => d.aws as Record<string, unknown> & { sshCidrs: string[]; dns: Record<string, string> };
    const deploy = (d: Record<string, unknown>) => d.deploy as Record<string, unknown> & { routing: Record<string, unknown> };
    const { http, https } = target.ports;
    const changes: RefusedChange[] = [
      { what: 'SSH from the whole IPv4 internet', field: 'aws.sshCidrs', change: (d) => void aws(d).sshCidrs.push('0.0.0.0/0') },
      { what: 'SSH from the whole IPv6 internet', field: 'aws.sshCidrs', change: (d) => void aws(d).sshCidrs.push('::/0') },
      { what: 'SSH from nowhere', field: 'aws.sshCidrs', change: (d) => void (aws(d).sshCidrs = []) },
      { what: 'SSH from an address without a prefix length', field: 'aws.sshCidrs', change: (d) => void aws(d).sshCidrs.push('203.0.113.8') },
      { what: 'ACME (the default tls) without a contact address', field: 'deploy.routing.acmeEmail', change: (d) => void (delete deploy(d).routing.tls, delete deploy(d).routing.acmeEmail) },
      { what: 'a tls mode Caddy is not given', field: 'deploy.routing.tls', change: (d) => void (deploy(d).routing.tls = 'letsencrypt') },
      ...[22, 80, 443].map((port) => ({ what: `the hypervisor on port ${port}, which the security group opens`, field: 'deploy.routing.hypervisorPort', change: (d: Record<string, unknown>) => void (deploy(d).routing.hypervisorPort = port) })),
      ...[http, https].map((port) => ({ what: `the hypervisor on Caddy's port ${port}`, field: 'deploy.routing.hypervisorPort', change: (d: Record<string, unknown>) => void (deploy(d).routing.hypervisorPort = port) })),
      { what: "the hypervisor's port in its old place, aws.hypervisorPort", field: 'aws.hypervisorPort', change: (d) => void (aws(d).hypervisorPort = hypervisorPort) },
      { what: 'a host name outside the hosted zone', field: 'aws.dns.hostName', change: (d) => void (aws(d).dns.hostName = 'choiros.elsewhere.test') },
      { what: 'the admin token written inline', field: 'deploy.adminToken', change: (d) => void (deploy(d).adminToken = target.adminToken) },
    ];
    const refusals = refusalsOf(target.file, target.description, changes);
    await evidence.json('description-refusals', refusals);
    expect(refusals.map(({ what, refusedNaming, namesTheFile }) => ({ what, refusedNaming, namesTheFile }))).toEqual(changes.map(({ what, field }) => ({ what, refusedNaming: field, namesTheFile: true })));
  });

  await test.step("the hypervisor's WebAuthn origin is the origin a browser reports for the host's HTTPS URL: at the described port, and at the default 443 a production host serves on", async () => {
    const deployment = readDeploySection(new DescriptionFields(target.file, target.description).section('deploy'));
    const production = readDeploySection(new DescriptionFields(`${target.file} (without its defaulted deploy fields)`, withoutDefaultedDeployFields(target.description)).section('deploy'));
    const origins = [deployment, production].map((d) => d && { url: `https://${d.routing.hostName}:${d.routing.httpsPort}/`, rendered: hypervisorEnvironment({ routing: d.routing }).WEBAUTHN_RP_ORIGIN });
    await evidence.json('webauthn-origins', origins);
    expect(origins.map((o) => o?.rendered)).toEqual(origins.map((o) => o && new URL(o.url).origin));
    expect(production?.routing.httpsPort, 'the production reading serves HTTPS on the default port').toBe(443);
  });

  await test.step("the Caddyfile a production routing renders (the defaults: every address, 80 and 443, tls acme) is one Caddy reads as admin off, HTTPS on :443 for the host name alone, proxied to the loopback hypervisor, with certificates from ACME registered to acmeEmail and never from Caddy's internal CA", async () => {
    const production = readDeploySection(new DescriptionFields(`${target.file} (without its defaulted deploy fields)`, withoutDefaultedDeployFields(target.description)).section('deploy'));
    if (!production) throw new Error(`${target.file} has no deploy section`);
    const text = caddyfile(production.routing);
    const read = await caddyReading(text);
    await evidence.text('production-Caddyfile', text);
    await evidence.json('production-caddy-reading', read);
    const { issuers, ...served } = read;
    expect(served).toEqual({ adminDisabled: true, listen: [':443'], hosts: [production.routing.hostName], upstreams: [`127.0.0.1:${production.routing.hypervisorPort}`] });
    expect(issuers.map((i) => i.module), 'the certificate issuers Caddy would use').toContain('acme');
    expect(issuers.filter((i) => i.module === 'internal' || i.email !== acmeContact), 'issuers that are not an ACME CA registered to acmeEmail').toEqual([]);
  });

  await test.step('the instance is in that security group and no other (the account\'s default group lets anything in from its members)', async () => {
    const group = await targetSecurityGroup(ec2, target.name);
    const [instance] = await runningInstances(ec2, target.name);
    await evidence.json('instance-security-groups', { instance: instance?.InstanceId, groups: instance?.SecurityGroups, targetGroup: group?.GroupId });
    expect(group?.GroupId, 'the security group tagged for the target').toBeDefined();
    expect(instance?.SecurityGroups?.map((g) => g.GroupId)).toEqual([group?.GroupId]);
  });

  await test.step("DNS: the record the first apply created, and the record now, point at the instance's public address as EC2 reports it, never a private one", async () => {
    const now = await readHostAddress(ec2, route53, { name: target.name, hostedZone: testHostedZone, hostName: aws.dns.hostName });
    await evidence.json('dns-record', { afterFirstApply: phase4Host.firstApplyAddress, now });
    expect(hostAddressProblems(phase4Host.firstApplyAddress), 'read from Route 53 and DescribeInstances right after the apply that launched the instance').toEqual([]);
    expect(hostAddressProblems(now), 'read from Route 53 and DescribeInstances now').toEqual([]);
  });

  await test.step('DNS drift (the record pointed elsewhere by hand, with a 5-minute TTL) is planned as an update and converges back with one apply, the TTL too', async () => {
    const zoneId = await hostedZoneId(route53, testHostedZone);
    const pointsAt = async () => (await aRecord(route53, zoneId, aws.dns.hostName))?.ResourceRecords?.map((r) => r.Value);
    const elsewhere = '192.0.2.1'; // TEST-NET-1: nobody's host
    const before = await pointsAt();
    await route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: aws.dns.hostName, Type: 'A', TTL: 300, ResourceRecords: [{ Value: elsewhere }] } }] } }));
    expect(await pointsAt(), 'the drift took').toEqual([elsewhere]);
    const plan = await phase4Host.provision('plan');
    const apply = await phase4Host.provision('apply');
    const after = await pointsAt();
    await evidence.json('dns-drift', { before, drifted: elsewhere, after });
    await evidence.command('provision-after-dns-drift', `${plan.commandLine}; ${apply.commandLine}`, `${plan.output}\n${apply.output}`);
    expect(plan.output).toContain(`${elsewhere} -> ${before?.[0] ?? '?'}`);
    expect(apply.exitCode).toBe(0);
    expect(after).toEqual(before);
    expect((await aRecord(route53, zoneId, aws.dns.hostName))?.TTL, 'the TTL after the apply').toBe(hostRecordTtlSecs);
  });

  const ca = await test.step("TLS: Caddy's internal CA (ACME in production) is the root the host serves under", async () => {
    const root = (await target.machine.exec(['cat', '/var/lib/choiros/caddy/caddy/pki/authorities/local/root.crt'])).stdout;
    await evidence.text('caddy-local-root.crt', root);
    return root;
  });
  const tlsTarget = { hostName: target.hostName, address: '127.0.0.1', port: target.ports.https, ca };

  await test.step('HTTPS answers with a chain that verifies for the host name, and proxies to the healthy hypervisor', async () => {
    const { authorized, error, chain } = await peerChain(tlsTarget);
    await evidence.json('tls-chain', { hostName: target.hostName, authorized, error, chain });
    expect(error).toBeUndefined();
    expect(authorized).toBe(true);
    expect(chain[0]?.subjectaltname).toContain(`DNS:${target.hostName}`);
    expect(chain.at(-1)?.subject).toMatch(/Caddy Local Authority/);
    const health = await getVia(tlsTarget, 'https', target.ports.https, '/health');
    await evidence.text('https-health.txt', `GET https://${target.hostName}:${target.ports.https}/health -> ${health.status}\n${health.body}`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'healthy' });
  });

  await test.step('a certificate from another CA is refused for that name', async () => {
    const { authorized } = await peerChain({ ...tlsTarget, ca: undefined });
    expect(authorized).toBe(false);
  });

  await test.step('HTTP answers a GET and a POST with a permanent redirect that keeps the method and body (308) to the same URL over HTTPS', async () => {
    const pathName = '/some/path?x=1';
    const get = await getVia(tlsTarget, 'http', target.ports.http, pathName);
    const post = await sendVia(tlsTarget, 'http', target.ports.http, pathName, { method: 'POST', body: '{"probe":"redirect"}', contentType: 'application/json' });
    await evidence.text('http-redirect.txt', [`GET http://${target.hostName}:${target.ports.http}${pathName} -> ${get.status} Location: ${get.location}`, `POST http://${target.hostName}:${target.ports.http}${pathName} -> ${post.status} Location: ${post.location}`].join('\n'));
    const wanted = { location: `https://${target.hostName}:${target.ports.https}${pathName}`, ...permanentKeepingMethod };
    expect({ location: get.location, ...redirectSemantics(get.status) }, `GET over HTTP answered ${get.status}`).toEqual(wanted);
    expect({ location: post.location, ...redirectSemantics(post.status) }, `POST over HTTP answered ${post.status}`).toEqual(wanted);
  });

  await test.step("a person registers a passkey in a real browser through Caddy at the host's HTTPS URL (the WebAuthn origin the hypervisor expects), and the user is removed after", async () => {
    const url = `https://${target.hostName}:${target.ports.https}`;
    const admin = new AdminClient({ url: `http://127.0.0.1:${target.ports.hypervisor}`, token: target.adminToken }, { actor: 'gate' });
    const registered = await registerThroughHost(playwright.chromium, launchOptions, { hostName: target.hostName, address: '127.0.0.1', rootCa: ca }, url, (page) => evidence.screenshot(page, 'passkey-registered-through-caddy'));
    try {
      await evidence.json('passkey-through-caddy', { url, username: registered.username, recovery_codes: registered.recoveryCodes.length, me: registered.me, page_error: registered.pageError });
      expect(registered.pageError, `registering at ${url}: what the page said`).toBeUndefined();
      expect(registered.recoveryCodes, 'the recovery codes after registering').toHaveLength(10);
      expect(registered.me.status).toBe(200);
      expect(JSON.parse(registered.me.body)).toMatchObject({ authenticated: true, username: registered.username });
    } finally {
      const user = (await admin.users(registered.username)).find((u) => u.username === registered.username);
      if (user) await admin.deleteUser(user.user_id);
    }
    expect((await admin.users(registered.username)).filter((u) => u.username === registered.username), 'the gate user after its removal').toEqual([]);
  });

  await test.step("the hypervisor's own port is bound to loopback only on the host", async () => {
    const listening = (await target.machine.exec(['ss', '-ltnH'])).stdout;
    await evidence.command('ss-listening', 'ss -ltnH (inside the host)', listening);
    const sockets = listening.split('\n').map((l) => l.trim().split(/\s+/)[3] ?? '').filter((local) => local.endsWith(`:${target.ports.hypervisor}`));
    expect(sockets.length).toBeGreaterThan(0);
    expect(sockets.every((local) => local === `127.0.0.1:${target.ports.hypervisor}`), sockets.join(', ')).toBe(true);
  });

  await test.step("Caddy listens on the host's HTTP and HTTPS ports, at the described bind address, and nowhere else: its admin API (which reconfigures it, on localhost:2019 unless turned off) is off", async () => {
    // By the unit's main process, not by name: the store path's binary shows as its hash, and the host shares this machine's loopback.
    const pid = (await target.machine.exec(['systemctl', 'show', '-p', 'MainPID', '--value', 'choiros-caddy.service'])).stdout.trim();
    const listening = (await target.machine.exec(['ss', '-ltnpH'])).stdout;
    await evidence.command('ss-listening-processes', `ss -ltnpH (inside the host; Caddy's main pid ${pid})`, listening);
    expect(pid, "Caddy's main process").toMatch(/^[1-9]\d*$/);
    const caddySockets = [...new Set(listening.split('\n').filter((l) => l.includes(`pid=${pid},`)).map((l) => l.trim().split(/\s+/)[3] ?? ''))].sort();
    // deploy.routing.bind: the address the description confines Caddy to (127.0.0.1 for the stand-in sharing this machine's loopback).
    const { bind } = (target.description.deploy as { routing: { bind: string } }).routing;
    expect(caddySockets, "the addresses and ports Caddy's sockets listen on").toEqual([`${bind}:${target.ports.http}`, `${bind}:${target.ports.https}`].sort());
  });
});

test('Deploy NixOS host config via CLI.', async ({ phase4Host, evidence }) => {
  // Two generations built and four deploys over SSH: on a loaded 2-core machine that passed 120 s (seen in a10p4's run on good code).
  test.setTimeout(300_000);
  await evidence.provenOn(provenOnStandIns);
  const { target } = phase4Host;
  const deployment = readDeploySection(new DescriptionFields(target.file, target.description).section('deploy'));
  if (!deployment) throw new Error(`${target.file} has no deploy section: the Phase 4 host is deployed from it`);
  await evidence.command('deploy-first', phase4Host.firstDeploy.commandLine, phase4Host.firstDeploy.output);
  const host = await HostAccess.open(deployment);
  try {
    await test.step('the first deploy copied the closure over SSH, switched the profile, activated and saw health', async () => {
      expect(phase4Host.firstDeploy.exitCode).toBe(0);
      for (const step of ['copy the closure', 'switch the system profile', 'activate', 'wait for health']) expect(phase4Host.firstDeploy.output).toContain(`[${step}]`);
      expect(phase4Host.firstDeploy.output).toMatch(/deployed \/nix\/store\/\S+ as generation \d+; healthy\./);
    });

    await test.step("every secret the deploy put on the host is the hypervisor user's alone (no group or other bits), and no other user reads it, by its path or by searching", async () => {
      const placement = await secretPlacement(host, [resolveSecret(deployment.adminToken)]);
      await evidence.json('secret-placement', placement);
      expect(placement.canary, 'a world-readable canary planted for the search: found by root and by nobody, or the searches proved nothing').toEqual({ byRoot: true, byOther: true });
      expect(placement.holders.map((h) => h.path), 'the admin token is where the hypervisor reads it').toContain(`${stateDir}/admin-token`);
      expect(secretExposures(placement)).toEqual([]);
    });

    await test.step('a description that leaves out every defaulted deploy field reads with the documented defaults (targets/README.md: SSH as root on 22, the system profile, a 120 s health timeout, Caddy on 80 and 443 on every address with ACME, the hypervisor on 8080, the admin token from GATE_ADMIN_TOKEN)', async () => {
      const bare = withoutDefaultedDeployFields(target.description);
      const read = readDeploySection(new DescriptionFields(`${target.file} (without its defaulted deploy fields)`, bare).section('deploy'));
      await evidence.json('described-deploy-defaults', { deploy: bare.deploy, read: read && defaultedFieldsOf(read) });
      expect(read && defaultedFieldsOf(read)).toEqual(documentedDeployDefaults);
    });

    await test.step('a deploy section that pins no host key (neither hostKey nor knownHostsFile) or two is refused naming deploy.ssh.hostKey: a host key is never accepted on first sight', async () => {
      const ssh = (d: Record<string, unknown>) => (d.deploy as { ssh: Record<string, unknown> }).ssh;
      const changes: RefusedChange[] = [
        { what: 'no host key pinned', field: 'deploy.ssh.hostKey', change: (d) => void delete ssh(d).hostKey },
        { what: 'both hostKey and knownHostsFile', field: 'deploy.ssh.hostKey', change: (d) => void (ssh(d).knownHostsFile = 'known_hosts') },
      ];
      const refusals = refusalsOf(target.file, target.description, changes);
      await evidence.json('host-key-refusals', refusals);
      expect(refusals.map(({ what, refusedNaming, namesTheFile }) => ({ what, refusedNaming, namesTheFile }))).toEqual(changes.map(({ what, field }) => ({ what, refusedNaming: field, namesTheFile: true })));
    });

    await test.step('a second deploy of the same generation changes nothing and says so', async () => {
      const before = await phase4Host.health();
      const again = await phase4Host.deploy('switch');
      await evidence.command('deploy-again', again.commandLine, again.output);
      expect(again.exitCode).toBe(0);
      expect(again.output).toMatch(/no change: \/nix\/store\/\S+ is already the active generation \(\d+\) and healthy/);
      expect(again.output).not.toContain('[activate]');
      expect((await phase4Host.health()).bootId).toBe(before.bootId);
    });

    await test.step("a deploy of a generation whose units differ: systemd then runs that generation's units (its loaded definitions, the processes' environment), and a deploy of the declared generation brings the declared units back", async () => {
      const declared = await buildTargetGeneration(deployment, new CommandTranscript());
      // Another environment and label: both units' files differ from the declared ones (Description, Environment, Caddy's --config).
      const changed = await buildTargetGeneration(deployment, new CommandTranscript(), { HYPERVISOR_KNOWN_GOOD_RETAIN: '7' }, 'unit-changed');
      const toChanged = await phase4Host.deploy('switch', '--closure', changed);
      await evidence.command('deploy-changed-units', toChanged.commandLine, toChanged.output);
      let onChanged: Awaited<ReturnType<typeof runningUnits>>;
      let back: Awaited<ReturnType<typeof phase4Host.deploy>>;
      try {
        onChanged = await runningUnits(host, changed);
      } finally {
        // The host is shared by the later lines: it goes back to the declared generation even if reading the units threw.
        back = await phase4Host.deploy('switch');
        await evidence.command('deploy-declared-again', back.commandLine, back.output);
      }
      const onDeclared = await runningUnits(host, declared);
      await evidence.json('running-units', { changed: { generation: changed, units: onChanged }, declared: { generation: declared, units: onDeclared } });
      expect(toChanged.exitCode).toBe(0);
      expect(onChanged.map((u) => [u.unit, u.differences]), `the units systemd runs after deploying ${changed}`).toEqual(onChanged.map((u) => [u.unit, []]));
      expect(back.exitCode).toBe(0);
      expect(onDeclared.map((u) => [u.unit, u.differences]), `the units systemd runs after deploying ${declared} again`).toEqual(onDeclared.map((u) => [u.unit, []]));
    });

    await test.step("status names what the host runs: the store path the system profile points at and its current generation number, as the host's own generation list reads them (after the deploys above, not the first generation)", async () => {
      const status = await phase4Host.deploy('status');
      await evidence.command('deploy-status', status.commandLine, status.output);
      const { current } = await host.generations();
      expect(status.exitCode).toBe(0);
      expect(current, 'the system profile has a current generation').toBeDefined();
      expect(status.output).toContain(`active: ${current?.storePath ?? '?'} (generation ${current?.number ?? '?'})`);
    });

    await test.step('a flag the usage does not give that command (--closure outside switch or outside /nix/store, --generation outside rollback or not a positive number, a flag it does not know) is refused with the usage (exit 2), and the host keeps its generation and its running hypervisor', async () => {
      const before = { generation: (await host.generations()).current, bootId: (await phase4Host.health()).bootId };
      const storePath = before.generation?.storePath ?? '/nix/store/missing';
      const misuses = [
        ['rollback', '--closure', storePath],
        ['status', '--closure', storePath],
        ['switch', '--generation', String(before.generation?.number ?? 1)],
        ['switch', '--closure', './result'],
        ['switch', '--closure'],
        ['rollback', '--generation', '0'],
        ['rollback', '--generation', 'previous'],
        ['rollback', '--yes'],
        ['apply'],
      ];
      const runs = [];
      for (const args of misuses) runs.push({ args: args.join(' '), run: await phase4Host.deploy(...args) });
      await evidence.json('deploy-usage-refusals', runs.map(({ args, run }) => ({ args, exitCode: run.exitCode, output: run.output })));
      expect(runs.map(({ args, run }) => ({ args, exitCode: run.exitCode, usage: run.output.includes('usage: GATE_TARGET=<name> npm run deploy -- switch|rollback|status') }))).toEqual(misuses.map((args) => ({ args: args.join(' '), exitCode: 2, usage: true })));
      expect((await host.generations()).current, 'the generation the host runs after the refused commands').toEqual(before.generation);
      expect((await phase4Host.health()).bootId, 'the hypervisor process after the refused commands').toBe(before.bootId);
    });

    await test.step('a host presenting another host key is refused, never accepted', async () => {
      const deploy = target.description.deploy as { ssh: { hostKey: string } };
      const pinned = deploy.ssh.hostKey;
      deploy.ssh.hostKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMr1IhvxJm4M4x5ZxGz8Rk7Zm0bS1mY7F2iOe0T6WQ1c';
      await target.write();
      try {
        const refused = await phase4Host.deploy('status');
        await evidence.command('deploy-changed-host-key', refused.commandLine, refused.output);
        expect(refused.exitCode).toBe(1);
        expect(refused.output).toMatch(/REFUSED: the host key of root@127\.0\.0\.1 port \d+ does not match the pinned key/);
        // A failed deploy is the one whose commands need reading: the transcript its error names is written.
        const kept = await failedDeployTranscript(refused.output);
        await evidence.json('refused-deploy-transcript', kept);
        expect(kept.file, 'the error names the deployment command transcript').toBeDefined();
        expect(kept.readable, kept.text).toBe(true);
        expect(kept.printed.length, 'the refused deploy ran the SSH command that was refused').toBeGreaterThan(0);
        expect(kept.missing, `commands the deploy ran that ${kept.file ?? 'the transcript'} does not hold`).toEqual([]);
        expect(kept.failedNotes.join('\n')).toMatch(/FAILED: .*REFUSED: the host key/);
      } finally {
        deploy.ssh.hostKey = pinned;
        await target.write();
      }
    });

    await test.step('an unreachable SSH endpoint is named with what to check', async () => {
      const deploy = target.description.deploy as { ssh: { port: number } };
      const port = deploy.ssh.port;
      // Port 1: nothing listens there on loopback.
      deploy.ssh.port = 1;
      await target.write();
      try {
        const unreachable = await phase4Host.deploy('status');
        await evidence.command('deploy-unreachable', unreachable.commandLine, unreachable.output);
        expect(unreachable.exitCode).toBe(1);
        expect(unreachable.output).toMatch(/cannot reach SSH at root@127\.0\.0\.1 port \d+: check deploy\.ssh\.host and deploy\.ssh\.port/);
      } finally {
        deploy.ssh.port = port;
        await target.write();
      }
    });
  } finally {
    await host.close();
  }
});
