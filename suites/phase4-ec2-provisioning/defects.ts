import type { SeededDefect } from '../../integrity/seeded-defect.ts';

/**
 * Phase 4's seeded defects (npm run integrity -- phase4): small mistakes a person could make in the
 * provisioning (provisioning/), the deploy CLI (deploy/) or the host generation it builds, and the
 * lines that must catch them. Locally the lines run against moto (standing in for EC2 and Route 53)
 * and a real systemd host reached over SSH (fixtures/phase4.ts).
 */

const line = {
  converges: 'EC2 host converges from declarative config.',
  reboot: 'Hypervisor remains healthy across reboot.',
  launch: 'Launch initial target host (`t3a.large`, `us-east-1`, `gp3` volume).',
  network: 'Configure network policy, DNS, and TLS routing.',
  deployCli: 'Deploy NixOS host config via CLI.',
  transcript: 'Deployment command transcript attached.',
  postReboot: 'Post-reboot health output attached.',
  rollback: 'Verify generation rollback and service recovery.',
} as const;

export const defects: readonly SeededDefect[] = [
  {
    id: 'ssh-open-to-the-world',
    what: 'the security group lets SSH in from anywhere as well as from the configured CIDRs ("while debugging from a laptop")',
    caughtBy: [line.network],
    edits: [{ file: 'provisioning/security-group.ts', find: '  return [...aws.sshCidrs.map((cidr) => `tcp:22:${cidr}`),', replace: '  return [...[...aws.sshCidrs, ...world].map((cidr) => `tcp:22:${cidr}`),' }],
  },
  {
    id: 'hypervisor-bound-to-all-addresses',
    what: 'the host generation binds the hypervisor to 0.0.0.0, so its port is reachable around Caddy and TLS',
    caughtBy: [line.network],
    edits: [{ file: 'deploy/generation.ts', find: "    HYPERVISOR_HOST: '127.0.0.1',", replace: "    HYPERVISOR_HOST: '0.0.0.0'," }],
  },
  {
    id: 'root-volume-gp2',
    what: 'the instance is launched with a gp2 root volume (from an older template), without the described IOPS',
    caughtBy: [line.launch],
    edits: [{ file: 'provisioning/instance.ts', find: "Ebs: { VolumeSize: aws.rootVolume.sizeGiB, VolumeType: 'gp3', Iops: aws.rootVolume.iops, DeleteOnTermination: true, Encrypted: true }", replace: "Ebs: { VolumeSize: aws.rootVolume.sizeGiB, VolumeType: 'gp2', DeleteOnTermination: true, Encrypted: true }" }],
  },
  {
    id: 'no-change-without-health',
    what: 'a deploy of the generation already active skips everything without checking health, so drift on the host (a stopped hypervisor) is never converged',
    caughtBy: [line.converges],
    edits: [{ file: 'deploy/converge.ts', find: '    if (before === closure && beforeHealth.healthy) {', replace: '    if (before === closure) {' }],
  },
  {
    id: 'units-not-enabled',
    what: 'switch-to-configuration links the units and restarts them but no longer links them into multi-user.target.wants, so after a reboot nothing starts them',
    caughtBy: [line.reboot, line.postReboot],
    edits: [{ file: 'deploy/generation.ts', find: '  ln -sfn "/etc/systemd/system/$unit" "/etc/systemd/system/multi-user.target.wants/$unit"\n', replace: '' }],
  },
  {
    id: 'host-key-not-checked',
    what: 'ssh runs with StrictHostKeyChecking=no ("to stop the prompts in CI"), so a host presenting another key is accepted',
    caughtBy: [line.deployCli],
    edits: [{ file: 'deploy/ssh.ts', find: "      '-o', 'StrictHostKeyChecking=yes',", replace: "      '-o', 'StrictHostKeyChecking=no'," }],
  },
  {
    id: 'generation-build-time-from-package-start',
    what: "the deploy times the host generation's build from when the hypervisor package's build started, so the transcript gives that step the two builds' time together, a duration it never had",
    caughtBy: [line.transcript],
    edits: [{ file: 'deploy/cli.ts', find: "exitCode: 0, ms: performance.now() - builtAt, output: generation.storePath", replace: "exitCode: 0, ms: performance.now() - started, output: generation.storePath" }],
  },
  {
    id: 'transcript-without-exit-status',
    what: "the text transcript drops each command's exit status (kept only in the JSON), so a failed command reads like a passed one",
    caughtBy: [line.transcript],
    edits: [{ file: 'deploy/command-transcript.ts', find: '\\n  exit ${c.exitCode} in ${c.ms} ms', replace: '\\n  took ${c.ms} ms' }],
  },
  {
    id: 'failed-health-not-rolled-back',
    what: 'a generation that fails its health check is reported but left active ("keep it for inspection"), instead of rolled back',
    caughtBy: [line.rollback],
    edits: [
      {
        file: 'deploy/converge.ts',
        find: '    if (!reading.healthy) return this.#rollBack(closure, previousGeneration, `the hypervisor did not answer healthy',
        replace: "    if (!reading.healthy) throw new HostCommandError('wait for health', closure, 1, `the hypervisor did not answer healthy",
      },
    ],
  },
  {
    id: 'volume-apply-keeps-iops',
    what: "the root volume update sends the size and type but not the IOPS, so a volume whose IOPS drifted is planned as a change every time and never converges",
    caughtBy: [line.converges],
    edits: [{ file: 'provisioning/instance.ts', find: "new ModifyVolumeCommand({ VolumeId: volume.VolumeId, Size: aws.rootVolume.sizeGiB, Iops: aws.rootVolume.iops, VolumeType: 'gp3' })", replace: "new ModifyVolumeCommand({ VolumeId: volume.VolumeId, Size: aws.rootVolume.sizeGiB, VolumeType: 'gp3' })" }],
  },
  {
    id: 'dns-update-skipped-on-apply',
    what: "applying the DNS plan compares the new address with the one first planned for instead of the record's, so a record pointed elsewhere is reported unchanged and keeps pointing there",
    caughtBy: [line.network],
    edits: [{ file: 'provisioning/dns.ts', find: "    if (p.publicIp === have) return 'unchanged';", replace: "    if (p.publicIp === currentIp) return 'unchanged';" }],
  },
  // A miss of the last never-seen measurement (issue #11), now checked by a passkey registered through Caddy.
  {
    id: 'webauthn-origin-with-the-http-port',
    what: "the host's hypervisor unit builds WEBAUTHN_RP_ORIGIN with the HTTP port instead of the HTTPS one, so a passkey registered at the host's HTTPS URL is refused for its origin",
    caughtBy: [line.network],
    edits: [
      {
        file: 'deploy/generation.ts',
        find: "  const origin = `https://${routing.hostName}${routing.httpsPort === 443 ? '' : `:${routing.httpsPort}`}`;",
        replace: "  const origin = `https://${routing.hostName}${routing.httpPort === 80 ? '' : `:${routing.httpPort}`}`;",
      },
    ],
  },
  {
    id: 'instance-type-applied-only-with-volume',
    what: "the instance update stops, modifies and starts the instance only when its root volume changed too, so a drifted instance type is planned on every run and never converged",
    caughtBy: [line.converges],
    edits: [{ file: 'provisioning/instance.ts', find: '      if (typeChanged) {', replace: '      if (typeChanged && volumeChanged) {' }],
  },
  // Round 6 misses (issue #11): each line now checks the property, caught here in another spelling than the round's.
  {
    id: 'instance-metadata-options-left-out',
    what: "the launch request no longer sets MetadataOptions (trimmed to the documentation's example), so the instance gets the account's default, HttpTokens \"optional\": IMDSv1 answers and an SSRF through the host reads the instance role's credentials",
    caughtBy: [line.launch],
    edits: [{ file: 'provisioning/instance.ts', find: "      MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },\n", replace: '' }],
  },
  {
    id: 'instance-metadata-hop-limit-raised',
    what: 'the launch raises the metadata PUT response hop limit to 2 ("for containers", as the AWS advice for containers that need IMDS says), so a container behind a bridge on the host gets a session token and the instance role\'s credentials (the slirp4netns sandboxes connect from the host itself: the limit alone never kept them out)',
    caughtBy: [line.launch],
    edits: [{ file: 'provisioning/instance.ts', find: "      MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },", replace: "      MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 }," }],
  },
  {
    id: 'switch-restarts-before-reload',
    what: "the generation's switch script restarts the units before systemctl daemon-reload (the lines swapped): the restart starts the previous definitions, and the reload after it only changes what systemd shows, so the processes run the previous generation's units while the profile and systemctl name the new one",
    caughtBy: [line.deployCli, line.converges],
    edits: [{ file: 'deploy/generation.ts', find: 'systemctl daemon-reload\nsystemctl restart ${hypervisorUnit} ${caddyUnit}\n', replace: 'systemctl restart ${hypervisorUnit} ${caddyUnit}\nsystemctl daemon-reload\n' }],
  },
  {
    id: 'admin-token-group-readable',
    what: 'the deploy installs the admin token under umask 027 ("group-readable, like /etc/shadow"), so the file is 0640 and every member of its group reads the admin token',
    caughtBy: [line.deployCli],
    edits: [{ file: 'deploy/converge.ts', find: '&& umask 077 && cat >', replace: '&& umask 027 && cat >' }],
  },
  // Round 7 misses (issue #11): the redirect's status and the address the DNS record takes, each caught here in another spelling or place than the round's.
  {
    id: 'http-redirect-moved-permanently',
    what: 'Caddy\'s HTTP-to-HTTPS redirect is written `permanent` (301, "the usual permanent redirect") instead of 308: permanent, but clients may re-send a POST as a GET and drop its body',
    caughtBy: [line.network],
    edits: [{ file: 'deploy/generation.ts', find: '{uri} 308`', replace: '{uri} permanent`' }],
  },
  {
    id: 'restart-records-private-address',
    what: "after the stop, modify and start that converges a drifted instance type, the provisioned address is read from the instance's first network interface's private address, so the DNS record is moved to an address nobody outside the VPC can reach",
    caughtBy: [line.converges],
    edits: [{ file: 'provisioning/instance.ts', find: '        p.publicIp = (await describe(ctx, id))?.PublicIpAddress;', replace: '        p.publicIp = (await describe(ctx, id))?.NetworkInterfaces?.[0]?.PrivateIpAddress;' }],
  },
  // Promise audit (issue #11, suites/phase4-ec2-provisioning/promises.md): properties no line asked about before.
  {
    id: 'root-volume-unencrypted',
    what: 'the launch request drops Encrypted from the root volume ("the account default covers it"), so the host\'s disk (the database, the admin token, user data) is stored unencrypted',
    caughtBy: [line.launch],
    edits: [{ file: 'provisioning/instance.ts', find: 'DeleteOnTermination: true, Encrypted: true }', replace: 'DeleteOnTermination: true }' }],
  },
  {
    id: 'root-volume-outlives-the-instance',
    what: 'the root volume is launched with DeleteOnTermination false ("keep the data"), so every destroy or AMI replacement leaves a 50 GiB volume behind that nothing lists or removes',
    caughtBy: [line.launch],
    edits: [{ file: 'provisioning/instance.ts', find: 'DeleteOnTermination: true, Encrypted: true }', replace: 'DeleteOnTermination: false, Encrypted: true }' }],
  },
  {
    id: 'instance-launched-without-key-pair',
    what: 'the launch request loses KeyName (trimmed with the other optional fields), so the instance boots with no deploy key and the first deploy cannot log in',
    caughtBy: [line.launch],
    edits: [{ file: 'provisioning/instance.ts', find: '      KeyName: p.keyName,\n', replace: '' }],
  },
  {
    id: 'root-volume-untagged',
    what: 'the launch tags the instance but no longer the root volume (one TagSpecification left), so the volume carries neither choiros:target nor the description\'s tags (cost allocation, the console, cleanup by tag)',
    caughtBy: [line.launch],
    edits: [{ file: 'provisioning/instance.ts', find: "TagSpecifications: [tagSpecification('instance', resourceTags(aws, 'host')), tagSpecification('volume', resourceTags(aws, 'root'))],", replace: "TagSpecifications: [tagSpecification('instance', resourceTags(aws, 'host'))]," }],
  },
  {
    id: 'inventory-removes-the-volume-by-the-instance-id',
    what: "copy-paste slip in the provisioning transcript: the root volume's by-hand removal names the instance's id (--volume-id i-…), so the command an operator copies after a failed run fails",
    caughtBy: [line.launch],
    edits: [{ file: 'provisioning/provision.ts', find: '--volume-id ${volume.VolumeId}', replace: '--volume-id ${instance.InstanceId}' }],
  },
  {
    id: 'instance-outside-its-security-group',
    what: 'the launch request loses SecurityGroupIds, so the instance runs in the VPC\'s default group: the provisioned group (SSH from the deployers, 80 and 443) applies to nothing and the host is unreachable on 80/443',
    caughtBy: [line.network],
    edits: [{ file: 'provisioning/instance.ts', find: '      SecurityGroupIds: [p.securityGroupId],\n', replace: '' }],
  },
  {
    id: 'caddy-admin-api-on',
    what: "the Caddyfile's global block loses `admin off`, so Caddy's admin API listens on localhost:2019 and any local process (a sandbox included) can reconfigure the host's routing and TLS",
    caughtBy: [line.network],
    edits: [{ file: 'deploy/generation.ts', find: "    'admin off',\n", replace: '' }],
  },
  {
    id: 'caddy-site-on-every-address',
    what: "the Caddyfile's site block loses its `bind` (only the HTTP redirect block keeps it), so Caddy serves HTTPS on every address of the host instead of the described one",
    caughtBy: [line.network],
    edits: [{ file: 'deploy/generation.ts', find: "    ...(routing.bind ? [`\\tbind ${routing.bind}`] : []),\n    `\\treverse_proxy", replace: '    `\\treverse_proxy' }],
  },
  {
    id: 'security-group-update-never-revokes',
    what: 'the security group update only adds missing rules and no longer revokes the ones the description does not ask for ("revoking is risky"), so a hand-opened hypervisor port stays open to the world while the plan lists it for revocation',
    caughtBy: [line.converges],
    edits: [{ file: 'provisioning/security-group.ts', find: '      if (remove.length) await ctx.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: remove.map(permission) }));\n', replace: '' }],
  },
  {
    id: 'tag-drift-only-missing-keys',
    what: 'tag drift counts only tags that are missing, not tags whose value was changed by hand, so a retagged resource is planned as "no change" and never converges',
    caughtBy: [line.converges],
    edits: [{ file: 'provisioning/tags.ts', find: '.filter(([key, value]) => tagValue(tags, key) !== value)', replace: '.filter(([key]) => tagValue(tags, key) === undefined)' }],
  },
  {
    id: 'plan-applies',
    what: 'copy-paste in the provisioning CLI: `plan` runs apply, so "what would change" changes the account without the confirmation apply asks for',
    caughtBy: [line.converges],
    edits: [{ file: 'provisioning/cli.ts', find: "    if (command === 'plan') await plan(ctx, transcript);", replace: "    if (command === 'plan') await apply(ctx, transcript, description.name);" }],
  },
  {
    id: 'hypervisor-not-restarted-after-a-crash',
    what: "the host generation's hypervisor unit is written with Restart=no (copied from a oneshot unit), so a hypervisor that crashes stays down until someone deploys or reboots",
    caughtBy: [line.converges],
    edits: [{ file: 'deploy/generation.ts', find: "    'Restart=on-failure',\n    'RestartSec=1',\n    `WorkingDirectory=${stateDir}`,", replace: "    'Restart=no',\n    'RestartSec=1',\n    `WorkingDirectory=${stateDir}`," }],
  },
  {
    id: 'caddy-not-restarted-after-a-crash',
    what: "the host generation's Caddy unit loses its Restart= line, so a Caddy that crashes stays down: the hypervisor runs, healthy on loopback, and nobody outside reaches it",
    caughtBy: [line.converges],
    edits: [{ file: 'deploy/generation.ts', find: "'Restart=on-failure',\n    'RestartSec=1',\n    '[Install]',", replace: "'RestartSec=1',\n    '[Install]'," }],
  },
  {
    id: 'destroy-keeps-the-key-pair',
    what: 'destroy no longer deletes the key pair ("it may be shared"), so `npm run provision -- destroy` leaves a resource tagged for the target behind while saying it removed everything',
    caughtBy: [line.launch],
    edits: [{ file: 'provisioning/provision.ts', find: "    await transcript.step('delete key pair', removal(() => destroyKeyPair(ctx)));\n", replace: '' }],
  },
  {
    id: 'destroy-keeps-the-dns-record',
    what: "destroy skips the DNS record (\"DNS is managed elsewhere\"), so the host name keeps pointing at a released public address that someone else's instance may get next",
    caughtBy: [line.launch],
    edits: [{ file: 'provisioning/provision.ts', find: "    await transcript.step('delete dns record', removal(() => destroyDns(ctx)));\n", replace: '' }],
  },
  {
    id: 'ssh-from-the-first-cidr-only',
    what: 'the wanted ingress opens SSH from the first of aws.sshCidrs only (written when the description held one block), so a deployer at any other listed address, an IPv6 one included, cannot reach the host',
    caughtBy: [line.network],
    edits: [{ file: 'provisioning/security-group.ts', find: '  return [...aws.sshCidrs.map((cidr) => `tcp:22:${cidr}`),', replace: '  return [...aws.sshCidrs.slice(0, 1).map((cidr) => `tcp:22:${cidr}`),' }],
  },
  {
    id: 'key-pair-digest-of-the-key-type-only',
    what: "the key pair's recorded fingerprint hashes only the key's type (slice(0, 1) where the type and body were meant), so every ed25519 key looks the same: after aws.keyPair.publicKeyFile names another key the plan says no change and the old key stays imported",
    caughtBy: [line.converges],
    edits: [{ file: 'provisioning/key-pair.ts', find: "createHash('sha256').update(publicKey.split(' ').slice(0, 2).join(' '))", replace: "createHash('sha256').update(publicKey.split(' ').slice(0, 1).join(' '))" }],
  },
  {
    id: 'failed-deploy-names-another-transcript',
    what: "a failed deploy's error names its transcript by a freshly made time stamp (the file name computed a second time), not the file it saved: the path the operator is told to read does not exist",
    caughtBy: [line.transcript, line.deployCli],
    edits: [{ file: 'deploy/cli.ts', find: '    throw new DeployFailedError(error as Error, transcript, transcriptFile);', replace: "    throw new DeployFailedError(error as Error, transcript, path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${command}.txt`));" }],
  },
  // round-9 miss: the A record's TTL
  {
    id: 'dns-record-ttl-scaled',
    what: "the provisioning's upsert of the host's A record writes TTL: ttl * 5 (a unit slip while adding a comment about minutes): resolvers keep a replaced address for five minutes instead of the documented one",
    caughtBy: [line.network],
    edits: [{ file: 'provisioning/dns.ts', find: "Type: 'A', TTL: ttl,", replace: "Type: 'A', TTL: ttl * 5," }],
  },
  {
    id: 'root-volume-default-iops-minimum',
    what: "a description without an aws.rootVolume section gets iops 16000 (the gp3 maximum, copied from the range check) instead of the documented 3000, so a target that does not say otherwise pays for provisioned IOPS it never asked for",
    caughtBy: [line.launch],
    edits: [{ file: 'gate-runner/aws-section.ts', find: 'if (!fields) return { sizeGiB: 50, iops: 3000 };', replace: 'if (!fields) return { sizeGiB: 50, iops: 16000 };' }],
  },
  // a10p4: the Phase 4 mutation walk (issue #11): documented defaults, refusals and the production origin
  {
    id: 'deploy-health-timeout-default-12',
    what: 'a deploy section without healthTimeoutSecs waits 12 s for health (a digit lost) instead of the documented 120: a production host still starting after a switch is rolled back as unhealthy',
    caughtBy: [line.deployCli],
    edits: [{ file: 'gate-runner/deploy-section.ts', find: "fields.integer('healthTimeoutSecs', 1, 900, 120)", replace: "fields.integer('healthTimeoutSecs', 1, 900, 12)" }],
  },
  {
    id: 'routing-https-port-default-8443',
    what: "a routing section without httpsPort serves HTTPS on 8443 (the stand-in habit) instead of the documented 443: a production host answers nothing at https://<host>/ and the security group's 443 leads nowhere",
    caughtBy: [line.deployCli],
    edits: [{ file: 'gate-runner/deploy-section.ts', find: "fields.integer('httpsPort', 1, 65535, 443)", replace: "fields.integer('httpsPort', 1, 65535, 8443)" }],
  },
  {
    id: 'ssh-user-default-ec2-user',
    what: "a deploy section without ssh.user logs in as ec2-user (Amazon Linux's) instead of the documented root, which NixOS needs to switch the system profile",
    caughtBy: [line.deployCli],
    edits: [{ file: 'gate-runner/deploy-section.ts', find: "'the login user (root on NixOS, for switching the system profile)', 'root')", replace: "'the login user (root on NixOS, for switching the system profile)', 'ec2-user')" }],
  },
  {
    id: 'root-volume-section-size-default-8',
    what: 'an aws.rootVolume section that names only iops gets an 8 GiB volume (the range minimum written as the default) instead of the documented 50 GiB: the host fills its disk with the first few generations',
    caughtBy: [line.launch],
    edits: [{ file: 'gate-runner/aws-section.ts', find: "fields.integer('sizeGiB', 8, 16384, 50)", replace: "fields.integer('sizeGiB', 8, 16384, 8)" }],
  },
  {
    id: 'ssh-world-refused-for-ipv4-only',
    what: 'the sshCidrs check refuses 0.0.0.0/0 but not ::/0 (the world list lost its IPv6 entry): a description opening SSH to the whole IPv6 internet is provisioned',
    caughtBy: [line.network],
    edits: [{ file: 'gate-runner/aws-section.ts', find: "const worldCidrs = ['0.0.0.0/0', '::/0'];", replace: "const worldCidrs = ['0.0.0.0/0'];" }],
  },
  {
    id: 'hypervisor-port-may-be-the-ssh-port',
    what: "the hypervisor's port is checked against 80 and 443 only, so deploy.routing.hypervisorPort 22 is accepted and the security group's SSH rule is the hypervisor's",
    caughtBy: [line.network],
    edits: [{ file: 'gate-runner/deploy-section.ts', find: 'export const securityGroupPorts: readonly number[] = [22, 80, 443];', replace: 'export const securityGroupPorts: readonly number[] = [80, 443];' }],
  },
  {
    id: 'webauthn-origin-keeps-port-443',
    what: "the hypervisor's WEBAUTHN_RP_ORIGIN always names the HTTPS port (https://host:443 on a production host), which is not the origin a browser reports: every passkey registration on a production host is refused",
    caughtBy: [line.network],
    edits: [{ file: 'deploy/generation.ts', find: "  const origin = `https://${routing.hostName}${routing.httpsPort === 443 ? '' : `:${routing.httpsPort}`}`;", replace: '  const origin = `https://${routing.hostName}:${routing.httpsPort}`;' }],
  },
  {
    id: 'local-certs-for-every-tls',
    what: "the Caddyfile's global options put local_certs in for every routing (the email only added for acme): a production host serves certificates from Caddy's internal CA, which every browser refuses",
    caughtBy: [line.network],
    edits: [{ file: 'deploy/generation.ts', find: "    ...(routing.tls === 'internal' ? ['local_certs'] : [`email ${routing.acmeEmail ?? ''}`]),", replace: "    'local_certs',\n    ...(routing.tls === 'acme' ? [`email ${routing.acmeEmail ?? ''}`] : []),", }],
  },
  {
    id: 'preflight-region-check-only-without-endpoint',
    what: 'preflight checks aws.region against the known regions only when no endpoint is set ("a stand-in serves any region"): a description naming a region that does not exist is applied instead of refused by name',
    caughtBy: [line.launch],
    edits: [{ file: 'provisioning/preflight.ts', find: '  if (!knownRegions.includes(aws.region)) {', replace: '  if (!aws.endpoint && !knownRegions.includes(aws.region)) {' }],
  },
  {
    id: 'ami-not-found-passed-through-raw',
    what: "preflight matches the missing-AMI error as InvalidAmiID (the code's case mistyped), so an AMI the region lacks fails with EC2's raw error, which names neither aws.ami nor what to set it to",
    caughtBy: [line.launch],
    edits: [{ file: 'provisioning/preflight.ts', find: '    if (/InvalidAMIID/.test(awsErrorName(error))) throw amiMissing(ctx);', replace: '    if (/InvalidAmiID/.test(awsErrorName(error))) throw amiMissing(ctx);' }],
  },
  {
    id: 'apply-asks-only-with-yes',
    what: "the CLI's confirmation is wired to --yes the wrong way round (it asks only when --yes is given), so an operator typing npm run provision -- apply on a terminal gets the plan applied without being asked",
    caughtBy: [line.launch],
    edits: [{ file: 'provisioning/main.ts', find: "  const confirm = process.stdin.isTTY && !flags.includes('--yes') ? ask : undefined;", replace: "  const confirm = process.stdin.isTTY && flags.includes('--yes') ? ask : undefined;" }],
  },
  {
    id: 'acme-without-contact-accepted',
    what: "the routing check refuses ACME without acmeEmail only when acmeEmail is an empty string, so a production description that leaves out tls (acme by default) and acmeEmail renders 'email ' in the Caddyfile and ACME registers with no contact",
    caughtBy: [line.network],
    edits: [{ file: 'gate-runner/deploy-section.ts', find: "  if (tls === 'acme' && !acmeEmail) throw", replace: "  if (tls === 'acme' && acmeEmail === '') throw" }],
  },
  {
    id: 'unpinned-host-key-accepted',
    what: 'the ssh section refuses only a description pinning both hostKey and knownHostsFile, so one pinning neither is accepted and the first deploy meets the host with no key to compare',
    caughtBy: [line.deployCli],
    edits: [{ file: 'gate-runner/deploy-section.ts', find: '  if ((hostKey === undefined) === (knownHostsFile === undefined)) throw', replace: '  if (hostKey !== undefined && knownHostsFile !== undefined) throw' }],
  },
  {
    id: 'status-names-the-first-generation',
    what: "the generation number is read from the first line nix-env --list-generations prints (written against a fresh host with one generation), so npm run deploy -- status names generation 1 whichever generation the host runs",
    caughtBy: [line.deployCli],
    edits: [{ file: 'deploy/converge.ts', find: "    const current = stdout.split('\\n').find((line) => /\\(current\\)/.test(line));", replace: "    const current = stdout.split('\\n').find((line) => /^\\s*\\d+\\s/.test(line));" }],
  },
  {
    id: 'deploy-closure-flag-accepted-with-rollback',
    what: "the CLI checks that --closure names a store path but not that the command is switch, so npm run deploy -- rollback --closure /nix/store/… is accepted, the closure ignored, and the host rolled back to its previous generation",
    caughtBy: [line.deployCli],
    edits: [{ file: 'deploy/main.ts', find: "  (!closure.given || (command === 'switch' && closure.value?.startsWith('/nix/store/'))) &&", replace: "  (!closure.given || closure.value?.startsWith('/nix/store/')) &&" }],
  },
  {
    id: 'provision-flags-unchecked',
    what: "the provisioning CLI checks only the command, not its flags (\"unknown flags are harmless\"), so npm run provision -- destroy --dry-run, typed to preview a teardown, removes every resource tagged for the target",
    caughtBy: [line.launch],
    edits: [{ file: 'provisioning/main.ts', find: "if (!provisioningCommands.includes(command as ProvisioningCommand) || flags.some((f) => f !== '--yes')) {", replace: 'if (!provisioningCommands.includes(command as ProvisioningCommand)) {' }],
  },
  {
    id: 'failed-apply-inventory-skipped',
    what: "apply lists what exists only when it succeeds (the inventory moved from the finally block to the end of the try), so the transcript of a failed apply, the one an operator opens to clean up, says nothing tagged for the target exists",
    caughtBy: [line.launch],
    edits: [
      { file: 'provisioning/provision.ts', find: "        return { value: undefined, detail: change.action === 'none' ? 'no change' : detail, unchanged: change.action === 'none' || detail === 'unchanged' };\n      });\n    }\n  } catch (error) {\n    transcript.failure = explainAwsError(error, ctx.descriptionFile).message;\n    throw explainAwsError(error, ctx.descriptionFile);\n  } finally {\n    await recordInventory(ctx, transcript, targetName);\n  }\n  return provisioned;", replace: "        return { value: undefined, detail: change.action === 'none' ? 'no change' : detail, unchanged: change.action === 'none' || detail === 'unchanged' };\n      });\n    }\n    await recordInventory(ctx, transcript, targetName);\n  } catch (error) {\n    transcript.failure = explainAwsError(error, ctx.descriptionFile).message;\n    throw explainAwsError(error, ctx.descriptionFile);\n  }\n  return provisioned;" },
    ],
  },
  // round 13 (unseen) misses, now checked by their lines
  {
    id: 'root-volume-type-drift-ignored',
    what: "the plan compares the root volume's size and IOPS with the description but no longer its type, so a volume switched to gp2 by hand is \"nothing to change\" and stays gp2",
    caughtBy: [line.converges],
    edits: [{ file: 'provisioning/instance.ts', find: " || volume.Iops !== aws.rootVolume.iops || volume.VolumeType !== 'gp3');", replace: ' || volume.Iops !== aws.rootVolume.iops);' }],
  },
  {
    id: 'transcript-durations-in-seconds',
    what: "the transcript keeps each command's duration in seconds under the name ms (a build of 600 ms reads 1 ms): every duration is within its bound from above, and none says how long the command took",
    caughtBy: [line.transcript],
    edits: [{ file: 'deploy/command-transcript.ts', find: 'ms: Math.round(entry.ms) };', replace: 'ms: Math.round(entry.ms / 1000) };' }],
  },
];
