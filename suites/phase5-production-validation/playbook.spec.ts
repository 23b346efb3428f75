import { execa } from 'execa';
import { remoteAdminToken } from '../../gate-runner/gate-target.ts';
import { plantedLines, plantJournalLines } from '../../fixtures/planted-journal.ts';
import { playbookFile, readPlaybook } from '../../fixtures/playbook.ts';
import { test, expect } from '../../fixtures/production-test.ts';

test('Record first operational playbook.', async ({ target, productionHost: host, page, passkey, gateUsers, evidence, provenOnTarget }) => {
  void passkey;
  // The logs command runs on the host (the Phase 4 stand-in locally); restart only has its syntax checked.
  const place = `${provenOnTarget.place}; the logs command on ${host.provenOn.place}`;
  await evidence.provenOn(target.local ? { place, standIn: `${provenOnTarget.standIn}; ${host.provenOn.standIn ?? 'the deployed host'} for the logs command; the restart command (host) was only checked for syntax` } : { place });
  const playbook = readPlaybook();
  await evidence.file('operations-playbook.md', playbookFile, 'text/markdown');
  const user = await gateUsers.register(page);
  const token = target.local ? target.local.secrets.adminToken : remoteAdminToken();

  await test.step('the user has a known-good release and a newer one, so rollback has somewhere to go', async () => {
    if (!target.local) throw new Error('the playbook rehearsal against a deployed host needs its release image and SSH to the host: not wired yet (Phase 4 host)');
    for (const [step, note] of [['10', 'known-good'], ['20', 'current']] as const) {
      const release = await target.admin.createRelease({ runtime: 'podman', image: target.local.image, config: { SANDBOX_CONDUCTOR_STEP_MS: step }, note: `gate: playbook ${note}` });
      await target.admin.deploy(user.userId, release.id);
      await target.admin.promote(user.userId, `gate: playbook ${note}`);
    }
  });

  const transcript: string[] = [];
  for (const command of playbook) {
    await test.step(`${command.name} (${command.where})`, async () => {
      if (command.where === 'host') {
        const syntax = await execa('bash', ['-n', '-c', command.script], { reject: false, all: true });
        transcript.push(`## ${command.name} (host, syntax only on this target)\n$ bash -n\n${syntax.all ?? ''}\nexit ${syntax.exitCode}`);
        expect(syntax.exitCode, `${playbookFile}:${command.line} ${command.name}: ${syntax.all ?? ''}`).toBe(0);
        return;
      }
      const result = await execa('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', command.script], {
        stdin: 'ignore',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', CHOIROS_URL: target.url, CHOIROS_ADMIN_TOKEN: token, CHOIROS_USER: user.userId },
        extendEnv: false,
        reject: false,
        all: true,
        timeout: 120_000,
      });
      transcript.push(`## ${command.name}\n$ ${command.script}\n${(result.all ?? '').slice(0, 4000)}\nexit ${result.exitCode}`);
      expect(result.exitCode, `${playbookFile}:${command.line} ${command.name} failed: ${(result.all ?? '').slice(0, 500)}`).toBe(0);
    });
  }
  await test.step("logs (host), run on the host: it shows an error line planted in the hypervisor's journal, and not a warning", async () => {
    const logs = playbook.find((command) => command.name === 'logs');
    expect(logs, `${playbookFile} has a "logs" block run on the host`).toMatchObject({ where: 'host' });
    const planted = plantedLines();
    const error = planted.find((line) => line.kind === 'pino error (50)')!;
    const warning = planted.find((line) => line.kind === 'pino warn (40)')!;
    await plantJournalLines(host.access, [error, warning]);
    let output = '';
    // journald stores the planted line shortly after logger returns: run the command until it shows (or the poll names what it printed).
    await expect
      .poll(
        async () => {
          const run = await host.access.runScript('the playbook logs command', logs!.script, { CHOIROS_UNIT: 'choiros-hypervisor' });
          output = `${run.output}\nexit ${run.exitCode}`;
          return output;
        },
        { message: `${playbookFile}:${logs!.line} logs: its output shows the planted error line`, timeout: 15_000 },
      )
      .toContain(error.message);
    transcript.push(`## logs (host, run over SSH on ${host.provenOn.place} after planting an error and a warning line)\n$ ${logs!.script}\n${output.slice(0, 4000)}`);
    expect(output, 'the planted warning line is not an error').not.toContain(warning.message);
  });
  await evidence.text('playbook-transcript.md', transcript.join('\n\n').replaceAll(token, '<admin token>'), 'text/markdown');
});
