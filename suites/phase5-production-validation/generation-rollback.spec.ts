import path from 'node:path';
import type { HostGeneration } from '../../deploy/host-access.ts';
import { test, expect } from '../../fixtures/production-test.ts';
import type { ProductionHost } from '../../fixtures/production-host.ts';
import { rollbackReport } from '../../fixtures/rollback-report.ts';

/** The label a generation was built with: its store path's name is choiros-host-generation-LABEL (deploy/generation.ts). */
const labelOf = (generation: HostGeneration | undefined): string => labelOfPath(generation?.storePath ?? '');
const labelOfPath = (storePath: string): string => path.basename(storePath).replace(/^[a-z0-9]{32}-choiros-host-generation-/, '');

/** The deploy CLI prints each step as "[step] $ command  (exit N, MS ms)". */
const stepMs = (output: string, step: string): number | undefined => {
  const found = new RegExp(`^\\[${step}\\] .*\\(exit 0, (\\d+) ms\\)$`, 'm').exec(output);
  return found ? Number(found[1]) : undefined;
};

/** The host's own word on its current generation, read over SSH, not through the deploy code's parse of it. */
interface HostGenerationReading {
  /** `readlink PROFILE`: the profile symlink, `system-N-link`. */
  link: string;
  /** N from the link's name. */
  fromLink: number | undefined;
  /** `readlink -e PROFILE`: the store path the profile resolves to. */
  storePath: string;
  /** `nix-env -p PROFILE --list-generations` as the host printed it. */
  listing: string;
  /** The number on the listing's "(current)" line. */
  listedCurrent: number | undefined;
}

async function hostGeneration(host: ProductionHost): Promise<HostGenerationReading> {
  const { remoteStore, profile } = host.access.deploy;
  const run = await host.access.runScript(
    "the system profile's link and generations, as the host prints them",
    'readlink "$PROFILE"\necho ---\nreadlink -e "$PROFILE"\necho ---\nnix-env ${STORE:+--store "$STORE"} -p "$PROFILE" --list-generations\n',
    { PROFILE: profile, ...(remoteStore ? { STORE: remoteStore } : {}) },
  );
  expect(run.exitCode, run.output).toBe(0);
  const [linkPart = '', resolved = '', listing = ''] = run.stdout.split('\n---\n');
  const link = linkPart.trim();
  const fromLink = /-(\d+)-link$/.exec(link)?.[1];
  const currentLine = listing.split('\n').find((line) => line.includes('(current)'));
  const listedCurrent = currentLine === undefined ? undefined : /^\s*(\d+)\s/.exec(currentLine)?.[1];
  return { link, fromLink: fromLink === undefined ? undefined : Number(fromLink), storePath: resolved.trim(), listing, listedCurrent: listedCurrent === undefined ? undefined : Number(listedCurrent) };
}

/** The generation number the deploy CLI says it left active ("… (generation N); healthy."). */
const cliGeneration = (output: string): number | undefined => {
  const found = /\(generation (\S+?)\); healthy\./.exec(output)?.[1];
  return found === undefined ? undefined : Number(found);
};

test('Confirm rollback from current prod generation to previous known-good.', async ({ productionHost: host, evidence }) => {
  // Two activations (back and forward), each waiting for health.
  test.setTimeout(240_000);
  await evidence.provenOn(host.provenOn);
  const found = await host.access.generations();
  const servedBefore = await host.access.servedBy();
  const hostBefore = await hostGeneration(host);
  const { current, previous } = found;
  await evidence.json('1-generations-before', { ...found, served_by: servedBefore, host_says: hostBefore });
  const numbers: Record<string, unknown> = { before: { deploy_reading: current?.number, profile_link: hostBefore.link, host_listing_current: hostBefore.listedCurrent } };

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
    // The host's own word: its profile link and nix-env's "(current)" line name the generation the reading calls current.
    expect(hostBefore.fromLink, `the profile link ${hostBefore.link} against nix-env's listing:\n${hostBefore.listing}`).toBe(hostBefore.listedCurrent);
    expect(current?.number, `the current generation as read against the host's profile link ${hostBefore.link}`).toBe(hostBefore.fromLink);
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
      const hostAfter = await hostGeneration(host);
      numbers.after_rollback = { expected: newestOlder?.number, deploy_reading: after.current?.number, cli_says: cliGeneration(run.output), profile_link: hostAfter.link, host_listing_current: hostAfter.listedCurrent };
      await evidence.json('6-generation-numbers-after-rollback', numbers);
      expect(hostAfter.fromLink, `the profile link ${hostAfter.link} after the rollback: current - 1`).toBe(newestOlder?.number);
      expect(hostAfter.listedCurrent, `nix-env's "(current)" line after the rollback:\n${hostAfter.listing}`).toBe(newestOlder?.number);
      expect(cliGeneration(run.output), 'the generation the deploy CLI says it rolled back to, against the host').toBe(hostAfter.fromLink);
      // What the rollback reports it left and reached, against the host read before and after on its own.
      const report = rollbackReport(run.output);
      await evidence.json('8-rollback-report-against-host', { report, host_before: hostBefore.storePath, host_after: hostAfter.storePath, unit_after: served.unitDescription });
      expect(report.from, 'the generation the rollback says it left: the profile before it').toBe(hostBefore.storePath);
      expect(report.to, 'the generation the rollback says it reached: the profile read again afterwards').toBe(hostAfter.storePath);
      expect(report.to, 'a rollback reaches another generation than the one it left').not.toBe(report.from);
      expect(report.generation).toBe(hostAfter.fromLink);
      expect(served.unitDescription, 'the running hypervisor is the generation the rollback says it reached').toBe(`ChoirOS hypervisor (generation ${labelOfPath(report.to)})`);
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
      const hostAfter = await hostGeneration(host);
      numbers.after_roll_forward = { expected: current?.number, deploy_reading: after.current?.number, cli_says: cliGeneration(run.output), profile_link: hostAfter.link, host_listing_current: hostAfter.listedCurrent };
      await evidence.json('7-generation-numbers-after-roll-forward', numbers);
      expect(hostAfter.fromLink, `the profile link ${hostAfter.link} after rolling forward`).toBe(current?.number);
      expect(hostAfter.listedCurrent, `nix-env's "(current)" line after rolling forward:\n${hostAfter.listing}`).toBe(current?.number);
      expect(cliGeneration(run.output), 'the generation the deploy CLI says it rolled forward to, against the host').toBe(hostAfter.fromLink);
      const report = rollbackReport(run.output);
      await evidence.json('9-roll-forward-report-against-host', { report, host_after: hostAfter.storePath, unit_after: served.unitDescription });
      expect(report.from, 'the generation the roll forward says it left: the previous known-good').toBe(newestOlder?.storePath);
      expect(report.to, 'the generation the roll forward says it reached: the profile read again afterwards').toBe(hostAfter.storePath);
      expect(report.to).not.toBe(report.from);
      expect(served.unitDescription, 'the running hypervisor is the generation the roll forward says it reached').toBe(`ChoirOS hypervisor (generation ${labelOfPath(report.to)})`);
    });
  } finally {
    // Never leave a production host on the older generation because an assertion failed midway.
    if (!rolledForward && current) await host.deployCli('rollback', '--generation', String(current.number));
  }
});
