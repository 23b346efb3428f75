import path from 'node:path';
import type { HostGeneration } from '../../deploy/host-access.ts';
import { test, expect } from '../../fixtures/production-test.ts';

/** The label a generation was built with: its store path's name is choiros-host-generation-LABEL (deploy/generation.ts). */
const labelOf = (generation: HostGeneration | undefined): string => path.basename(generation?.storePath ?? '').replace(/^[a-z0-9]{32}-choiros-host-generation-/, '');

/** The deploy CLI prints each step as "[step] $ command  (exit N, MS ms)". */
const stepMs = (output: string, step: string): number | undefined => {
  const found = new RegExp(`^\\[${step}\\] .*\\(exit 0, (\\d+) ms\\)$`, 'm').exec(output);
  return found ? Number(found[1]) : undefined;
};

test('Confirm rollback from current prod generation to previous known-good.', async ({ productionHost: host, evidence }) => {
  // Two activations (back and forward), each waiting for health.
  test.setTimeout(240_000);
  await evidence.provenOn(host.provenOn);
  const found = await host.access.generations();
  const servedBefore = await host.access.servedBy();
  const { current, previous } = found;
  await evidence.json('1-generations-before', { ...found, served_by: servedBefore });

  // The previous known-good is current - 1: the newest generation older than the current one, worked
  // out here from the listing rather than taken from the reading that names it.
  const older = found.all.filter((g) => current !== undefined && g.number < current.number);
  const newestOlder = older.reduce<HostGeneration | undefined>((newest, g) => (newest === undefined || g.number > newest.number ? g : newest), undefined);

  await test.step('the host serves its current generation and has a previous known-good one, newer than the oldest', async () => {
    expect(current, 'the system profile has a current generation (npm run deploy -- status)').toBeDefined();
    expect(previous, 'the system profile has a generation before the current one: deploy at least twice before rehearsing the rollback').toBeDefined();
    // With one older generation, "previous" and "oldest" are the same and a rollback to the wrong one looks right.
    expect(older.length, 'the system profile has at least two generations before the current one, so the previous is not the oldest: deploy three times before rehearsing the rollback').toBeGreaterThanOrEqual(2);
    expect(previous, 'the previous known-good is the newest generation older than the current one').toEqual(newestOlder);
    expect(servedBefore.health.healthy).toBe(true);
    expect(servedBefore.unitDescription).toBe(`ChoirOS hypervisor (generation ${labelOf(current)})`);
  });
  let rolledForward = false;
  try {
    await test.step('npm run deploy -- rollback: the previous known-good generation is active and answers health from a new process', async () => {
      const run = await evidence.timed('deploy rollback', () => host.deployCli('rollback'));
      await evidence.command('2-deploy-rollback', run.commandLine, run.output);
      expect(run.exitCode, run.output).toBe(0);
      const after = await host.access.generations();
      const served = await host.access.servedBy();
      const toHealthyMs = stepMs(run.output, 'wait for health after rollback');
      await evidence.json('3-generations-after-rollback', { ...after, served_by: served, time_to_healthy_ms: toHealthyMs, cli_ms: Math.round(run.ms) });
      expect(after.current?.number, 'the generation active after the rollback: current - 1').toBe(newestOlder?.number);
      expect(after.current?.storePath).toBe(newestOlder?.storePath);
      expect(served.health.healthy).toBe(true);
      expect(served.health.bootId).not.toBe(servedBefore.health.bootId);
      expect(served.invocationId).not.toBe(servedBefore.invocationId);
      expect(served.unitDescription).toBe(`ChoirOS hypervisor (generation ${labelOf(newestOlder)})`);
      expect(toHealthyMs, 'the CLI reports how long the previous generation took to answer healthy').toEqual(expect.any(Number));
    });

    await test.step('rolled forward again (npm run deploy -- rollback --generation N): the host is left as it was found', async () => {
      const run = await host.deployCli('rollback', '--generation', String(current?.number));
      rolledForward = run.exitCode === 0;
      await evidence.command('4-deploy-roll-forward', run.commandLine, run.output);
      expect(run.exitCode, run.output).toBe(0);
      const after = await host.access.generations();
      const served = await host.access.servedBy();
      await evidence.json('5-generations-after-roll-forward', { ...after, served_by: served });
      expect(after.current).toEqual(current);
      expect(after.all.map((g) => [g.number, g.storePath])).toEqual(found.all.map((g) => [g.number, g.storePath]));
      expect(served.health.healthy).toBe(true);
      expect(served.unitDescription).toBe(servedBefore.unitDescription);
    });
  } finally {
    // Never leave a production host on the older generation because an assertion failed midway.
    if (!rolledForward && current) await host.deployCli('rollback', '--generation', String(current.number));
  }
});
