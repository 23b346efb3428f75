import { readFile } from 'node:fs/promises';
import { failedDeployTranscript } from '../../fixtures/failed-deploy-transcript.ts';
import { provenOnStandIns, rebootLineTimeoutMs, test, expect } from '../../fixtures/phase4.ts';

test('Deployment command transcript attached.', async ({ phase4Host, evidence }) => {
  await evidence.provenOn(provenOnStandIns);
  const deployStartedAt = Date.now();
  const deployed = await phase4Host.deploy('switch');
  const deployEndedAt = Date.now();
  const { file, text } = await phase4Host.latestDeployTranscript();
  await evidence.file('deployment-command-transcript.txt', file, 'text/plain');
  await evidence.file('deployment-command-transcript.json', file.replace(/\.txt$/, '.json'), 'application/json');

  await test.step('every command with its exit status, duration and output', async () => {
    expect(deployed.exitCode).toBe(0);
    const commands = JSON.parse(await readFile(file.replace(/\.txt$/, '.json'), 'utf8')) as { step: string; command: string; exitCode: number; ms: number; output: string }[];
    expect(commands.length).toBeGreaterThan(2);
    for (const command of commands) {
      expect(typeof command.exitCode).toBe('number');
      expect(command.ms).toBeGreaterThanOrEqual(0);
      if (!command.command.startsWith('# ')) expect(text).toContain(`$ ${command.command}\n  exit ${command.exitCode} in ${command.ms} ms`);
    }
    expect(commands.map((c) => c.step)).toEqual(expect.arrayContaining(['build the hypervisor package', 'build the host generation', 'read the active generation']));
  });

  await test.step("each command's duration is its own, against when it was recorded: it began after the deploy started and after the command before it was recorded (its at less its ms), and the file holds the commands the CLI printed, in that order, with the exit status and ms it printed", async () => {
    const commands = (JSON.parse(await readFile(file.replace(/\.txt$/, '.json'), 'utf8')) as { at: string; step: string; command: string; exitCode: number; ms: number }[]).filter((c) => !c.command.startsWith('# '));
    // at has millisecond precision and ms is rounded: a few ms either way.
    const slackMs = 5;
    let previousAt = deployStartedAt;
    const overlapping: string[] = [];
    for (const command of commands) {
      const at = Date.parse(command.at);
      if (at - command.ms < previousAt - slackMs) overlapping.push(`[${command.step}] ${command.ms} ms, recorded at ${command.at}: it would have begun ${previousAt - (at - command.ms)} ms before ${previousAt === deployStartedAt ? 'the deploy started' : 'the command before it was recorded'}`);
      previousAt = at;
    }
    expect(overlapping, 'durations longer than the time the command had').toEqual([]);
    expect(previousAt, 'the last command recorded before the CLI exited').toBeLessThanOrEqual(deployEndedAt + slackMs);
    const printed = deployed.output.split('\n').flatMap((line) => {
      const match = /^\[([^\]]+)\] \$ (.*) {2}\(exit (-?\d+), (\d+) ms\)$/.exec(line.trim());
      return match ? [`[${match[1] ?? ''}] $ ${match[2] ?? ''} (exit ${match[3] ?? ''}, ${match[4] ?? ''} ms)`] : [];
    });
    expect(commands.map((c) => `[${c.step}] $ ${c.command} (exit ${c.exitCode}, ${c.ms} ms)`), `${file}: its commands against what the CLI printed as it ran them`).toEqual(printed);
  });

  await test.step("each command's duration is measured, not only bounded: between the first command's record and the last, the commands' durations fill at least half the time, and together they are at least a tenth of the wall time the gate measured around the deploy", async () => {
    const commands = (JSON.parse(await readFile(file.replace(/\.txt$/, '.json'), 'utf8')) as { at: string; ms: number; command: string }[]).filter((c) => !c.command.startsWith('# '));
    const [first, ...rest] = commands;
    // The records are placed on this machine's clock (the step above holds them inside the gate's window). Between two records
    // the CLI runs the next command and little else, so the durations fill nearly all of it (99% in a passing run); half leaves room for a loaded machine.
    const recordsSpanMs = Date.parse(commands.at(-1)?.at ?? '') - Date.parse(first?.at ?? '');
    const afterFirstMs = rest.reduce((sum, c) => sum + c.ms, 0);
    // The gate's own clock: the deploy's wall time is its commands plus the CLI starting, reading its description and saving the
    // transcript. The commands are most of it (two nix builds and the SSH round trips); a tenth holds however slowly the CLI starts.
    const wallMs = deployEndedAt - deployStartedAt;
    const totalMs = commands.reduce((sum, c) => sum + c.ms, 0);
    await evidence.json('transcript-durations-against-clocks', { recordsSpanMs, durationsAfterTheFirstMs: afterFirstMs, wallMs, durationsMs: totalMs });
    expect(afterFirstMs, `${file}: the durations of the commands after the first, against the ${recordsSpanMs} ms between the first record and the last`).toBeGreaterThanOrEqual(recordsSpanMs / 2);
    expect(totalMs, `${file}: the durations of every command, against the ${wallMs} ms the gate measured around the deploy`).toBeGreaterThanOrEqual(wallMs / 10);
  });

  await test.step('the first deploy, with the closure copy, profile switch, activation and health, is kept too', async () => {
    await evidence.command('first-deploy', phase4Host.firstDeploy.commandLine, phase4Host.firstDeploy.output);
    for (const step of ['copy the closure', 'install the admin token', 'switch the system profile', 'activate', 'wait for health']) expect(phase4Host.firstDeploy.output).toContain(`[${step}]`);
  });

  await test.step('a failed deploy keeps its transcript too: a rollback to a generation the host does not have fails, and the file its error names holds every command it ran and the FAILED note', async () => {
    const before = await phase4Host.health();
    // No host keeps a millionth generation: nix-env refuses it and the profile stays where it is.
    const failed = await phase4Host.deploy('rollback', '--generation', '999999');
    const kept = await failedDeployTranscript(failed.output);
    await evidence.command('failed-deploy', failed.commandLine, failed.output);
    if (kept.readable && kept.file) await evidence.file('failed-deployment-command-transcript.txt', kept.file, 'text/plain');
    expect(failed.exitCode).toBe(1);
    expect(kept.file, 'the error names the deployment command transcript').toBeDefined();
    expect(kept.readable, kept.text).toBe(true);
    expect(kept.printed.length, 'the failed rollback ran commands on the host').toBeGreaterThan(0);
    expect(kept.missing, `commands the deploy ran that ${kept.file ?? 'the transcript'} does not hold`).toEqual([]);
    expect(kept.failedNotes, 'the FAILED note').toHaveLength(1);
    expect((await phase4Host.health()).bootId, 'the host was left alone').toBe(before.bootId);
  });

  await test.step('secrets are redacted: the admin token appears nowhere', async () => {
    const all = [text, await readFile(file.replace(/\.txt$/, '.json'), 'utf8'), phase4Host.firstDeploy.output, deployed.output].join('\n');
    expect(all).not.toContain(phase4Host.target.adminToken);
  });
});

test('Post-reboot health output attached.', async ({ phase4Host, evidence }) => {
  // Above the reboot's own bounds (shutdown 60 s, boot 60 s, health 45 s: host/machine.ts, fixtures/phase4.ts), so a
  // host that does not come back fails with what did not, never with this line's timeout.
  test.setTimeout(rebootLineTimeoutMs);
  await evidence.provenOn({ place: 'a systemd-nspawn Debian host on this machine, rebooted for real', standIn: provenOnStandIns.standIn });
  const rebooted = await phase4Host.reboot();
  const now = await phase4Host.health();
  await evidence.text('post-reboot-health.json', JSON.stringify({ url: phase4Host.target.healthUrl, statusCode: now.statusCode, body: JSON.parse(now.body) as unknown }, null, 2), 'application/json');
  await evidence.command('post-reboot-systemctl-status', 'systemctl status choiros-hypervisor.service choiros-caddy.service', rebooted.after.status);
  await evidence.logExcerpt('post-reboot-journal.txt', rebooted.after.journal.split('\n'));
  await evidence.json('boots', { before: rebooted.before.bootIdentity, after: rebooted.after.bootIdentity, hypervisorBootBefore: rebooted.before.health.bootId, hypervisorBootAfter: now.bootId, rebootToHealthyMs: Math.round(rebooted.rebootToHealthyMs) });

  expect(now.healthy).toBe(true);
  expect(now.bootId).toBe(rebooted.after.health.bootId);
  expect(rebooted.after.bootIdentity).not.toBe(rebooted.before.bootIdentity);
  expect(rebooted.after.status).toMatch(/choiros-hypervisor\.service[\s\S]*Active: active \(running\)/);
  expect(rebooted.after.status).toMatch(/choiros-caddy\.service[\s\S]*Active: active \(running\)/);
});
