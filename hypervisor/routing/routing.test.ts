import { afterEach, describe, expect, it } from 'vitest';
import { metricsRegistry } from '../metrics-registry.ts';
import { openDatabase } from '../store/database.ts';
import { RoutingError } from './errors.ts';
import { httpHealthGate, type HealthGate } from './health-gate.ts';
import { routeSwitchSeconds } from './metrics.ts';
import { Releases } from './releases.ts';
import { Routing } from './routing.ts';
import { SlotReleases } from './slot-releases.ts';
import { collectingLogger } from './testing/collecting-logger.ts';
import { HttpSlots, RecordedTraffic } from './testing/http-slots.ts';

const user = 'ann';
const open: Array<HttpSlots> = [];

function setUp(options: { healthDeadlineMs?: number } = {}) {
  const slots = new HttpSlots();
  open.push(slots);
  const traffic = new RecordedTraffic();
  const { logger, events } = collectingLogger();
  const db = openDatabase('sqlite::memory:');
  const routing = new Routing({ db, slots, traffic, logger, options: { healthDeadlineMs: options.healthDeadlineMs ?? 2_000, drainTimeoutMs: 500 } });
  const release = (image: string, behaviour = 'healthy') => routing.createRelease({ runtime: 'process', config: { TEST_BEHAVIOUR: behaviour, SANDBOX_VERSION: image } });
  const deployedAndPromoted = async (image: string) => {
    const created = await release(image);
    await routing.deploy(user, created.id, 'admin');
    await routing.promote(user, 'admin', image);
    return created;
  };
  /** Two releases deployed and promoted one after the other, as a user's history would hold them. */
  const promotedInTurn = async (first: string, second: string) => [await deployedAndPromoted(first), await deployedAndPromoted(second)] as const;
  return { db, slots, traffic, routing, events, release, promotedInTurn };
}

/** choiros_route_switches_total for one action and outcome, as /metrics reports it. */
async function switchesCounted(action: string, outcome: string): Promise<number> {
  return (await metricsRegistry.getSingleMetric('choiros_route_switches_total')!.get()).values.find((v) => v.labels.action === action && v.labels.outcome === outcome)?.value ?? 0;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((slots) => slots.close()));
});

describe('swap', () => {
  it('health-checks the new main target, switches both pointers, closes WebSockets with 1012, drains the old target and records who, when, from, to, why and how long', async () => {
    const { slots, traffic, routing, events } = setUp();
    await slots.start({ userId: user, role: 'live' }, { runtime: 'process', image: 'one' });
    await slots.start({ userId: user, role: 'dev' }, { runtime: 'process', image: 'two' });
    const result = await routing.swap(user, 'admin', 'try the dev build');
    expect(result.after).toMatchObject({ main: 'dev', dev: 'live' });
    expect(routing.resolve(user, 'main')).toBe('dev');
    expect(traffic.calls).toEqual([`close ${user}:live 1012`, `close ${user}:dev 1012`, `drain ${user}:live 500`]);
    const [record] = routing.switches({ userId: user });
    expect(record).toMatchObject({ action: 'swap', actor: 'admin', fromRole: 'live', toRole: 'dev', reason: 'try the dev build', outcome: 'switched', drained: true });
    expect(record?.durationMs).toBeGreaterThan(0);
    expect(events().some((e) => e.event === 'routing.switch' && e.from === 'live' && e.to === 'dev')).toBe(true);
    await routing.swap(user, 'admin', 'and back');
    expect(routing.pointersOf(user)).toMatchObject({ main: 'live', dev: 'dev' });
  });

  it('gives the old target 10 s (in ms) to drain when no drain timeout is configured, as the README says', async () => {
    const slots = new HttpSlots();
    open.push(slots);
    const traffic = new RecordedTraffic();
    const routing = new Routing({ db: openDatabase('sqlite::memory:'), slots, traffic, logger: collectingLogger().logger, options: { healthDeadlineMs: 2_000 } });
    await slots.start({ userId: user, role: 'live' }, { runtime: 'process', image: 'one' });
    await slots.start({ userId: user, role: 'dev' }, { runtime: 'process', image: 'two' });
    await routing.swap(user, 'admin', 'default drain');
    expect(traffic.calls.filter((call) => call.startsWith('drain '))).toEqual([expect.stringMatching(/ 10000$/)]);
  });

  it('gives the new main target up to 20 s (in ms) to answer healthy when no health deadline is configured', async () => {
    const slots = new HttpSlots();
    open.push(slots);
    const deadlines: number[] = [];
    const healthGate = async (_port: number, options: { deadlineMs: number }) => {
      deadlines.push(options.deadlineMs);
      return { version: 'two', instanceRole: 'dev', elapsedMs: 0, smoke: false };
    };
    const routing = new Routing({ db: openDatabase('sqlite::memory:'), slots, traffic: new RecordedTraffic(), logger: collectingLogger().logger, healthGate, options: { drainTimeoutMs: 500 } });
    await slots.start({ userId: user, role: 'live' }, { runtime: 'process', image: 'one' });
    await slots.start({ userId: user, role: 'dev' }, { runtime: 'process', image: 'two' });
    await routing.swap(user, 'admin', 'default health deadline');
    expect(deadlines).toHaveLength(1);
    expect(deadlines[0]).toBeGreaterThan(15_000);
    expect(deadlines[0]).toBeLessThanOrEqual(20_000);
  });

  it('records a switch whose old target did not drain in time as not drained; main serves the new target all the same', async () => {
    const { slots, traffic, routing } = setUp();
    await slots.start({ userId: user, role: 'live' }, { runtime: 'process', image: 'one' });
    await slots.start({ userId: user, role: 'dev' }, { runtime: 'process', image: 'two' });
    traffic.drainsInTime = false;
    const result = await routing.swap(user, 'admin', 'long requests on live');
    expect(result).toMatchObject({ drained: false, after: { main: 'dev' } });
    expect(routing.switches({ userId: user })[0]).toMatchObject({ outcome: 'switched', drained: false });
  });

  it('changes nothing and says why when the new target fails its health check', async () => {
    const { slots, traffic, routing } = setUp({ healthDeadlineMs: 300 });
    await slots.start({ userId: user, role: 'live' }, { runtime: 'process', image: 'one' });
    await slots.start({ userId: user, role: 'dev' }, { runtime: 'process', image: 'two' });
    slots.setBehaviour({ userId: user, role: 'dev' }, 'unhealthy');
    const refused = routing.swap(user, 'admin', 'should not happen');
    await expect(refused).rejects.toThrow(RoutingError);
    await expect(refused).rejects.toThrow(/dev slot of user "ann" failed its check, so main still points to live: .*did not answer "status":"healthy" within/);
    expect(routing.pointersOf(user)).toMatchObject({ main: 'live', dev: 'dev' });
    expect(traffic.calls).toEqual([]);
    expect(routing.switches({ userId: user })[0]).toMatchObject({ outcome: 'refused', fromRole: 'live', toRole: 'dev' });
  });

  it('counts swaps in choiros_route_switches_total by outcome: a refused one under refused, never under switched', async () => {
    const swaps = (outcome: string) => switchesCounted('swap', outcome);
    const { slots, routing } = setUp({ healthDeadlineMs: 300 });
    await slots.start({ userId: user, role: 'live' }, { runtime: 'process', image: 'one' });
    await slots.start({ userId: user, role: 'dev' }, { runtime: 'process', image: 'two' });
    const [switched0, refused0] = [await swaps('switched'), await swaps('refused')];
    slots.setBehaviour({ userId: user, role: 'dev' }, 'unhealthy');
    await expect(routing.swap(user, 'admin', 'dev is broken')).rejects.toThrow(RoutingError);
    expect([await swaps('switched'), await swaps('refused')]).toEqual([switched0, refused0 + 1]);
    expect(routing.switches({ userId: user })[0]?.error, 'the refusal recorded says which slot failed and where main still points').toMatch(/^dev slot of user "ann" failed its check, so main still points to live: /);
    slots.setBehaviour({ userId: user, role: 'dev' }, 'healthy');
    await routing.swap(user, 'admin', 'dev is fixed');
    expect([await swaps('switched'), await swaps('refused')]).toEqual([switched0 + 1, refused0 + 1]);
  });

  it('times each switch in choiros_route_switch_duration_seconds, in seconds: the time until main served the new target', async () => {
    const timed = async (): Promise<{ count: number; sum: number }> => {
      const values = (await routeSwitchSeconds.get()).values.filter((v) => v.labels.action === 'swap');
      const read = (name: string): number => values.find((v) => v.metricName === name)?.value ?? 0;
      return { count: read('choiros_route_switch_duration_seconds_count'), sum: read('choiros_route_switch_duration_seconds_sum') };
    };
    const { slots, routing } = setUp();
    await slots.start({ userId: user, role: 'live' }, { runtime: 'process', image: 'one' });
    await slots.start({ userId: user, role: 'dev' }, { runtime: 'process', image: 'two' });
    const before = await timed();
    const result = await routing.swap(user, 'admin', 'timed');
    const after = await timed();
    expect(after.count).toBe(before.count + 1);
    expect(after.sum - before.sum).toBeCloseTo(result.servingAfterMs / 1000, 6);
  });

  it('runs one switch per user at a time, so 10 concurrent swaps end where 10 sequential ones would', async () => {
    const { slots, routing } = setUp();
    await slots.start({ userId: user, role: 'live' }, { runtime: 'process', image: 'one' });
    await slots.start({ userId: user, role: 'dev' }, { runtime: 'process', image: 'two' });
    await Promise.all(Array.from({ length: 10 }, (_, i) => routing.swap(user, 'admin', `swap ${i}`)));
    expect(routing.pointersOf(user)).toMatchObject({ main: 'live', dev: 'dev' });
    const switched = routing.switches({ userId: user });
    expect(switched.map((s) => s.toRole)).toEqual(['live', 'dev', 'live', 'dev', 'live', 'dev', 'live', 'dev', 'live', 'dev']);
  });
});

describe('deploy and promote', () => {
  it('deploys a release to the slot main does not point to, then promote swaps and marks it known-good', async () => {
    const { slots, routing, release } = setUp();
    await slots.start({ userId: user, role: 'live' }, { runtime: 'process', image: 'current' });
    const next = await release('next');
    const deployed = await routing.deploy(user, next.id, 'admin');
    expect(deployed.role).toBe('dev');
    expect(slots.calls).toContain(`start ${user}:dev process`);
    expect(routing.releases.require(next.id).status).toBe('staged');
    expect(deployed.release.status, 'the release in the answer: as it is now, not as it was asked for').toBe('staged');
    const promoted = await routing.promote(user, 'admin', 'release next');
    expect(promoted.after.main).toBe('dev');
    expect(promoted.knownGood).toBe(true);
    expect(routing.releases.require(next.id)).toMatchObject({ status: 'serving' });
    expect(routing.releases.require(next.id).knownGoodAt).not.toBeNull();
    expect(routing.switches({ userId: user })[0]).toMatchObject({ action: 'promote', toRelease: next.id });
  });

  it("promote's known-good check is of the slot main now points to, the promoted release, not of the old main left as standby", async () => {
    const slots = new HttpSlots();
    open.push(slots);
    const checked: number[] = [];
    const healthGate: HealthGate = (port, options) => {
      checked.push(port);
      return httpHealthGate(port, options);
    };
    const routing = new Routing({ db: openDatabase('sqlite::memory:'), slots, traffic: new RecordedTraffic(), logger: collectingLogger().logger, healthGate, options: { healthDeadlineMs: 2_000, drainTimeoutMs: 500 } });
    await slots.start({ userId: user, role: 'live' }, { runtime: 'process', image: 'current' });
    const next = await routing.createRelease({ runtime: 'process', config: { SANDBOX_VERSION: 'next' } });
    await routing.deploy(user, next.id, 'admin');
    const promoted = await routing.promote(user, 'admin', 'release next');
    expect(promoted.knownGood).toBe(true);
    const ports = (role: 'live' | 'dev') => slots.status({ userId: user, role })?.port;
    expect(checked.at(-1), 'the last check, after the switch: the new main').toBe(ports(promoted.after.main));
    expect(checked.at(-1)).not.toBe(ports(promoted.after.dev));
  });

  it('promote smoke-checks the new target: a release healthy on /health whose API fails is not promoted, and main keeps pointing where it did', async () => {
    const { slots, routing, release } = setUp();
    const created = await release('api-breaks-later');
    await routing.deploy(user, created.id, 'admin');
    slots.setBehaviour({ userId: user, role: 'dev' }, 'api-broken');
    await expect(routing.promote(user, 'admin', 'ship it')).rejects.toMatchObject({ code: 'health_check_failed', message: expect.stringContaining('/conductor/runs') });
    expect(routing.pointersOf(user).main).toBe('live');
    expect(routing.switches({ userId: user })[0]).toMatchObject({ action: 'promote', outcome: 'refused' });
  });

  it('a refused deploy marks only a candidate release refused: one that later deploys healthily is staged again, and one that has served stays serving', async () => {
    const slots = new HttpSlots();
    open.push(slots);
    const db = openDatabase('sqlite::memory:');
    // Two hypervisor lifetimes over one database: one gives a slow release too little time, one enough.
    const withDeadline = (healthDeadlineMs: number) => new Routing({ db, slots, traffic: new RecordedTraffic(), logger: collectingLogger().logger, options: { healthDeadlineMs, drainTimeoutMs: 500 } });
    const impatient = withDeadline(100);
    const patient = withDeadline(5_000);
    const slow = await patient.createRelease({ runtime: 'process', config: { TEST_HEALTH_DELAY_MS: '400', SANDBOX_VERSION: 'slow' } });
    const status = () => patient.releases.require(slow.id).status;
    await expect(impatient.deploy(user, slow.id, 'admin')).rejects.toMatchObject({ code: 'health_check_failed' });
    expect(status()).toBe('refused');
    await patient.deploy(user, slow.id, 'admin');
    expect(status()).toBe('staged');
    await patient.promote(user, 'admin', 'ship it');
    expect(status()).toBe('serving');
    await expect(impatient.deploy('bob', slow.id, 'admin')).rejects.toMatchObject({ code: 'health_check_failed' });
    expect(status()).toBe('serving');
  });

  it('deploying a release that already serves (another user) leaves it serving, not staged', async () => {
    const { routing, release } = setUp();
    const shipped = await release('shipped');
    await routing.deploy(user, shipped.id, 'admin');
    await routing.promote(user, 'admin', 'ship');
    await routing.deploy('bob', shipped.id, 'admin');
    expect(routing.releases.require(shipped.id)).toMatchObject({ status: 'serving', knownGoodAt: expect.any(String) });
  });

  it('refuses a release whose sandbox does not start, stops it, and main keeps pointing where it did', async () => {
    const { slots, routing, release } = setUp();
    await slots.start({ userId: user, role: 'live' }, { runtime: 'process', image: 'current' });
    const broken = await release('broken', 'fails-to-start');
    await expect(routing.deploy(user, broken.id, 'admin')).rejects.toThrow(/release \d+ was refused for user "ann" \(dev slot\): .*exited with code 1.*main still points to live/);
    expect(routing.pointersOf(user).main).toBe('live');
    expect(routing.releases.require(broken.id).status).toBe('refused');
    await expect(routing.promote(user, 'admin', 'promote the broken one')).rejects.toThrow(/nothing to promote for user "ann": release \d+ there is refused/);
    expect(routing.pointersOf(user).main).toBe('live');
  });

  it('refuses a release that starts but never answers healthy', async () => {
    const { slots, routing, release } = setUp({ healthDeadlineMs: 300 });
    await slots.start({ userId: user, role: 'live' }, { runtime: 'process', image: 'current' });
    const sick = await release('sick', 'unhealthy');
    await expect(routing.deploy(user, sick.id, 'admin')).rejects.toMatchObject({ code: 'health_check_failed' });
    expect(slots.status({ userId: user, role: 'dev' })?.status, 'the refused release stopped').toBe('stopped');
    expect(routing.pointersOf(user).main).toBe('live');
  });
});

describe('the health gate after a slow start', () => {
  it('still gets time to check a healthy target when starting it used up the whole deadline, on deploy and on a cold rollback', async () => {
    const { slots, routing, release } = setUp({ healthDeadlineMs: 300 });
    // The start alone outlasts the 300 ms deadline, and /health takes 30 ms to answer.
    const slow = await routing.createRelease({ runtime: 'process', config: { SANDBOX_VERSION: 'slow', TEST_START_DELAY_MS: '400', TEST_HEALTH_DELAY_MS: '30' } });
    const deployed = await routing.deploy(user, slow.id, 'admin');
    expect(deployed.health.version).toBe('process');
    expect(deployed.durationMs).toBeGreaterThan(400);
    await routing.promote(user, 'admin', 'slow');
    await routing.deploy(user, (await release('next')).id, 'admin');
    await routing.promote(user, 'admin', 'next');
    await slots.stop({ userId: user, role: routing.resolve(user, 'dev') });
    const rolledBack = await routing.rollback({ userId: user, actor: 'admin', reason: 'back to slow' });
    expect(rolledBack).toMatchObject({ mode: 'cold', release: { id: slow.id } });
    expect(routing.pointersOf(user).main).toBe(rolledBack.after.main);
  });
});

describe('rollback', () => {
  it('with a warm standby is a pointer switch: nothing is started', async () => {
    const { slots, routing, promotedInTurn } = setUp();
    const [good, bad] = await promotedInTurn('good', 'bad');
    const startsBefore = slots.calls.filter((c) => c.startsWith('start')).length;
    const result = await routing.rollback({ userId: user, actor: 'admin', reason: 'bad is bad' });
    expect(result.mode).toBe('warm');
    expect(result.release.id).toBe(good.id);
    expect(result.from?.id).toBe(bad.id);
    expect(slots.calls.filter((c) => c.startsWith('start')).length).toBe(startsBefore);
    expect(routing.slotsOf(user).find((s) => s?.role === routing.resolve(user, 'main'))?.releaseId).toBe(good.id);
    expect(routing.switches({ userId: user })[0], 'the history row: from the release main served, to the one it serves now').toMatchObject({ action: 'rollback', outcome: 'switched', fromRelease: bad.id, toRelease: good.id });
  });

  it('that is refused at the warm target\'s health check keeps the check\'s own code (health_check_failed), not a start failure', async () => {
    const { slots, routing, promotedInTurn } = setUp({ healthDeadlineMs: 300 });
    await promotedInTurn('good', 'bad');
    const mainBefore = routing.pointersOf(user).main;
    slots.setBehaviour({ userId: user, role: routing.resolve(user, 'dev') }, 'unhealthy');
    await expect(routing.rollback({ userId: user, actor: 'admin', reason: 'back' })).rejects.toMatchObject({ code: 'health_check_failed' });
    expect(routing.pointersOf(user).main).toBe(mainBefore);
  });

  it('refused because the chosen release does not start records the refusal from main (its slot and release) to the standby (its slot and the chosen release), and counts it under refused', async () => {
    const rollbacks = (outcome: string) => switchesCounted('rollback', outcome);
    const { routing, release, promotedInTurn } = setUp();
    // The standby runs good (warm), main serves current: a third release, chosen, must be started cold.
    const [, current] = await promotedInTurn('good', 'current');
    const unstartable = await release('unstartable', 'fails-to-start');
    routing.markKnownGood(unstartable.id, 'admin');
    const { main, dev } = routing.pointersOf(user);
    const [switched0, refused0] = [await rollbacks('switched'), await rollbacks('refused')];
    await expect(routing.rollback({ userId: user, actor: 'admin', reason: 'back', releaseId: unstartable.id })).rejects.toMatchObject({ code: 'start_failed' });
    expect(routing.switches({ userId: user })[0]).toMatchObject({ action: 'rollback', outcome: 'refused', fromRole: main, fromRelease: current.id, toRole: dev, toRelease: unstartable.id });
    expect([await rollbacks('switched'), await rollbacks('refused')]).toEqual([switched0, refused0 + 1]);
    expect(routing.pointersOf(user).main).toBe(main);
  });

  it('is not warm when the standby was started on something else since: the known-good release is started again', async () => {
    const { slots, routing, promotedInTurn } = setUp();
    await promotedInTurn('good', 'bad');
    const standby = { userId: user, role: routing.resolve(user, 'dev') };
    await slots.start(standby, { runtime: 'process', image: 'hand-started', config: { SANDBOX_VERSION: 'experiment' } });
    await expect(routing.promote(user, 'admin', 'promote the experiment')).rejects.toThrow(/was started on something other than release \d+ since it was deployed/);
    const result = await routing.rollback({ userId: user, actor: 'admin', reason: 'back' });
    expect(result.mode).toBe('cold');
    expect(slots.status({ userId: user, role: result.after.main })?.spec.config).toMatchObject({ SANDBOX_VERSION: 'good' });
  });

  it('from cold starts the previous known-good release in the standby slot, then switches', async () => {
    const { slots, routing, promotedInTurn } = setUp();
    const [good] = await promotedInTurn('good', 'current');
    await slots.stop({ userId: user, role: routing.resolve(user, 'dev') });
    const result = await routing.rollback({ userId: user, actor: 'admin', reason: 'back' });
    expect(result.mode).toBe('cold');
    expect(result.release.id).toBe(good.id);
    expect(slots.status({ userId: user, role: result.after.main })?.status).toBe('running');
  });

  it('that fails leaves main serving and says why', async () => {
    const { slots, routing, release } = setUp();
    const good = await release('good', 'fails-to-start');
    routing.markKnownGood(good.id, 'admin');
    await slots.start({ userId: user, role: 'live' }, { runtime: 'process', image: 'current' });
    const failed = routing.rollback({ userId: user, actor: 'admin', reason: 'back' });
    await expect(failed).rejects.toThrow(/rollback of user "ann" to release \d+ failed, main still serves the live slot: release \d+ did not start in the dev slot/);
    expect(routing.pointersOf(user).main).toBe('live');
    expect(slots.status({ userId: user, role: 'live' })?.status).toBe('running');
    expect(routing.switches({ userId: user })[0]).toMatchObject({ action: 'rollback', outcome: 'refused' });
    expect(routing.slotsOf(user).find((slot) => slot?.role === 'dev')).toMatchObject({ releaseId: good.id, state: 'refused', error: expect.stringMatching(/did not start in the dev slot/) });
  });

  it('to a chosen release refuses one that is not known-good or was pruned, naming it, and main stays where it was', async () => {
    const { db, routing, release, promotedInTurn } = setUp();
    const [good] = await promotedInTurn('good', 'current');
    const mainBefore = routing.pointersOf(user).main;
    const neverProven = await release('never-proven');
    await expect(routing.rollback({ userId: user, actor: 'admin', reason: 'back', releaseId: neverProven.id })).rejects.toMatchObject({ code: 'no_known_good', message: expect.stringContaining(`release ${neverProven.id} is not known-good`) });
    // What retention does to a release whose image it removed.
    new Releases(db).setStatus(good.id, 'pruned');
    await expect(routing.rollback({ userId: user, actor: 'admin', reason: 'back', releaseId: good.id })).rejects.toMatchObject({ code: 'no_known_good', message: expect.stringContaining(`release ${good.id} was pruned`) });
    expect(routing.pointersOf(user).main).toBe(mainBefore);
  });

  it('is not warm when the standby slot never finished starting the release (a deploy cut short): it is started again', async () => {
    const { db, slots, routing, promotedInTurn } = setUp();
    const [good] = await promotedInTurn('good', 'bad');
    // The hypervisor died while (re)starting the release in the standby slot: the record says so.
    new SlotReleases(db).record(user, routing.resolve(user, 'dev'), good.id, 'starting');
    const startsBefore = slots.calls.filter((c) => c.startsWith('start')).length;
    const result = await routing.rollback({ userId: user, actor: 'admin', reason: 'back' });
    expect(result.mode).toBe('cold');
    expect(slots.calls.filter((c) => c.startsWith('start')).length).toBe(startsBefore + 1);
    expect(routing.slotsOf(user).find((slot) => slot?.role === result.after.main)).toMatchObject({ releaseId: good.id, state: 'ready' });
  });

  it('without any known-good release is refused with what to do', async () => {
    const { routing } = setUp();
    await expect(routing.rollback({ userId: user, actor: 'admin', reason: 'back' })).rejects.toThrow(/no known-good release to roll back to.*mark one known-good/);
  });

  it('for every user rolls each back and reports each one', async () => {
    const { routing, release } = setUp();
    const good = await release('good');
    const next = await release('next');
    for (const userId of ['ann', 'bob']) {
      await routing.deploy(userId, good.id, 'admin');
      await routing.promote(userId, 'admin', 'good');
      await routing.deploy(userId, next.id, 'admin');
      await routing.promote(userId, 'admin', 'next');
    }
    const results = await routing.rollbackAll({ actor: 'admin', reason: 'all back' });
    expect(results.map((r) => [r.userId, r.result?.release.id, r.result?.mode])).toEqual([
      ['ann', good.id, 'warm'],
      ['bob', good.id, 'warm'],
    ]);
  });

  /** bob's history for the rollback --all tests: good promoted, then next, so good is his rollback target (warm). */
  async function bobServesNextAfterGood(routing: Routing, release: (image: string) => Promise<{ id: number }>): Promise<void> {
    for (const image of ['good', 'next']) {
      await routing.deploy('bob', (await release(image)).id, 'admin');
      await routing.promote('bob', 'admin', image);
    }
  }

  it('for every user reaches one known only by a refused deploy, and reports users in user id order however they finish', async () => {
    const { routing, release } = setUp();
    await bobServesNextAfterGood(routing, release);
    // amy's only trace is a refused deploy (its slot stopped): her rollback is cold, so slower than bob's warm one.
    const broken = await release('broken', 'fails-to-start');
    await expect(routing.deploy('amy', broken.id, 'admin')).rejects.toThrow(/was refused/);
    const results = await routing.rollbackAll({ actor: 'admin', reason: 'all back' });
    expect(results.map((r) => [r.userId, r.result?.mode ?? r.error?.code])).toEqual([
      ['amy', 'cold'],
      ['bob', 'warm'],
    ]);
  });

  it('for every user reaches one known only by their route pointers (switched once, no sandbox or release recorded now)', async () => {
    const { routing, release } = setUp();
    await bobServesNextAfterGood(routing, release);
    routing.pointers.point('dan', 'dev', () => undefined);
    const results = await routing.rollbackAll({ actor: 'admin', reason: 'all back' });
    expect(results.map((r) => [r.userId, r.result?.mode ?? r.error?.code])).toEqual([
      ['bob', 'warm'],
      ['dan', 'cold'],
    ]);
  });

  it('for every user reaches one known only to the sandbox manager (sandboxes, but never switched or deployed through routing)', async () => {
    const { routing, release, slots } = setUp();
    await bobServesNextAfterGood(routing, release);
    await slots.start({ userId: 'cat', role: 'live' }, { runtime: 'process', image: 'next' });
    const results = await routing.rollbackAll({ actor: 'admin', reason: 'all back' });
    expect(results.map((r) => [r.userId, r.result?.mode ?? r.error?.code])).toEqual([
      ['bob', 'warm'],
      ['cat', 'cold'],
    ]);
  });
});
