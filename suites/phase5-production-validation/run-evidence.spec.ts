import { stateDir } from '../../deploy/generation.ts';
import { bracket, readHeadroomIndependently } from '../../fixtures/headroom-cross-check.ts';
import { readCloudWatchFigures } from '../../fixtures/runtime-metrics/cloudwatch-figures.ts';
import { holdRequest } from '../../fixtures/held-request.ts';
import { describeChecks } from '../../fixtures/runtime-metrics/snapshot.ts';
import { sessionCookieName } from '../../hypervisor/auth/cookies.ts';
import { attachSnapshot, publishedSinceStart } from '../../fixtures/runtime-metrics/run-metrics.ts';
import { readMetricsEndpoint } from '../../fixtures/runtime-metrics/metrics-endpoint.ts';
import { localPublishIntervalSecs, test, expect } from '../../fixtures/production-test.ts';

// Last in the run (files run in name order): the snapshot's window spans the lines before it.
/** Percentage points a published disk headroom may differ from the host's statfs readings around it (rounding; churn is bracketed). */
const headroomSlack = 1;

test('Runtime metrics snapshot attached.', async ({ hostTarget: host, productionHost, moto, cloudwatch, thresholds, runMetrics, browser, page, passkey, hostRequests, gateUsers, evidence }) => {
  await evidence.provenOn(moto ? { place: host.provenOn.place, standIn: `${host.provenOn.standIn ?? 'the local stand-in'}; moto stood in for CloudWatch (the host's hypervisor publishes to it by the NixOS module's cloudwatch option)` } : host.provenOn);
  expect(cloudwatch, 'the target description names no `cloudwatch` section: add region and host (see targets/README.md)').toBeDefined();
  if (!cloudwatch) return;
  // The host's disk read by statfs over SSH, around everything the hypervisor publishes during the line.
  const diskBefore = await readHeadroomIndependently(productionHost.access, stateDir);
  const lineStarted = new Date();
  // Some proxied traffic in the window even when this line runs alone (refused without a session, still timed).
  expect((await hostRequests.get(`${host.url}/conductor/runs`)).status()).toBe(401);
  const snapshot = await runMetrics.end(cloudwatch, thresholds, { waitMs: 60_000 });
  await attachSnapshot(evidence, browser, snapshot, 'Phase 5 runtime metrics');
  expect(snapshot.held, describeChecks(snapshot.checks)).toBe(true);

  await test.step('the hypervisor counts each proxied request once, and the counters CloudWatch holds add up to no more than it counted since it started (published per interval, not as running totals)', async () => {
    void passkey; // the page's virtual authenticator, for the gate user below
    // Traffic of a gate user's own, then (locally) three publishing intervals, so at least two
    // publishes follow it: running totals published twice add up to more than was counted.
    await gateUsers.register(page);
    // The hypervisor's own count first: what CloudWatch holds is checked against it below.
    const before = await readMetricsEndpoint(host.url, host.dispatcher);
    for (let i = 0; i < 5; i++) expect((await hostRequests.get(`${host.url}/conductor/runs`)).status()).toBe(200);
    const after = await readMetricsEndpoint(host.url, host.dispatcher);
    const again = await readMetricsEndpoint(host.url, host.dispatcher);
    await evidence.json('request-counter', { requests_made: 5, before: before.proxiedRequests, after: after.proxiedRequests, scraped_again: again.proxiedRequests });
    if (moto) {
      // The stand-in serves only this run: its counter moves by exactly our requests, and a scrape alone moves it not at all.
      expect(after.proxiedRequests - before.proxiedRequests, 'choiros_proxy_requests_total moved by our 5 proxied requests').toBe(5);
      expect(again.proxiedRequests, 'choiros_proxy_requests_total after one more scrape and no request').toBe(after.proxiedRequests);
    } else {
      // A deployed host serves other people meanwhile: at least ours.
      expect(after.proxiedRequests - before.proxiedRequests, 'choiros_proxy_requests_total moved by at least our 5 proxied requests').toBeGreaterThanOrEqual(5);
    }
    if (moto) await page.waitForTimeout(3 * localPublishIntervalSecs * 1000);
    const counters = await publishedSinceStart(host.url, cloudwatch, host.dispatcher);
    await evidence.json('published-counters', counters);
    expect(counters.counted.proxiedRequests, 'proxied requests the hypervisor counted since it started').toBeGreaterThanOrEqual(5);
    expect(counters.published.proxiedRequests, 'proxied requests published since the hypervisor started').toBeGreaterThan(0);
    for (const name of ['restarts', 'proxiedRequests', 'proxiedErrors'] as const) {
      expect(counters.published[name], `${name}: published to CloudWatch since ${counters.since}, against the hypervisor's own count`).toBeLessThanOrEqual(counters.counted[name]);
    }
  });

  if (moto) {
    await test.step('a request held 250 ms beside one held 40 ms makes the published p99 latency at least 200 ms (the stand-in: an interval of fewer than 100 requests, whose p99 is its slowest)', async () => {
      void (gateUsers.made[0] ?? (await gateUsers.register(page)));
      const session = (await page.context().cookies(host.url)).find((cookie) => cookie.name === sessionCookieName);
      expect(session, `the gate user's ${sessionCookieName} cookie for ${host.url}`).toBeDefined();
      // Half its body sent, the rest after `ms`: the hypervisor times it at least that long, with nothing slow in the sandbox.
      const heldFor = async (ms: number) => {
        const held = holdRequest(`${host.url}/conductor/execute`, { cookie: `${sessionCookieName}=${session?.value}`, origin: host.url }, JSON.stringify({ objective: `Gate: a request held ${ms} ms`, desktop_id: 'gate-p99' }), host.dispatcher);
        await page.waitForTimeout(ms);
        held.release();
        return held.answer;
      };
      const askedAt = new Date();
      // Numerically 250 ms is the slowest; as text "4x" sorts after "25x", so a p99 that sorts its samples as strings shows.
      const answers = [await heldFor(250), await heldFor(40)];
      for (const answer of answers) expect(answer.status, `a held POST /conductor/execute: ${answer.body}`).toBe(202);
      await page.waitForTimeout(3 * localPublishIntervalSecs * 1000);
      const published = (await readCloudWatchFigures(cloudwatch, { from: askedAt, to: new Date() })).RequestLatencyP99.points;
      await evidence.json('p99-lower-bound', { asked_at: askedAt.toISOString(), held_ms: [250, 40], published_p99: published });
      expect(published.length, `RequestLatencyP99 points published since ${askedAt.toISOString()}`).toBeGreaterThan(0);
      expect(Math.max(...published.map((p) => p.value)), `the p99 published since ${askedAt.toISOString()} against a request the hypervisor had to wait 250 ms for`).toBeGreaterThanOrEqual(200);
    });
  }

  await test.step("the disk headroom the hypervisor published is the share unprivileged writers may still use (statfs's available blocks), read on the host around it", async () => {
    if (moto) await page.waitForTimeout(localPublishIntervalSecs * 1000);
    const diskAfter = await readHeadroomIndependently(productionHost.access, stateDir);
    // One default period before the line too: a deployed host publishes once a minute.
    const from = new Date(lineStarted.getTime() - 60_000);
    const published = (await readCloudWatchFigures(cloudwatch, { from, to: new Date() })).DiskHeadroom.points;
    const expected = bracket(diskBefore.disk.freePercent, diskAfter.disk.freePercent, headroomSlack);
    await evidence.json('disk-headroom-cross-check', { command: diskBefore.disk.command, before: diskBefore.disk, after: diskAfter.disk, expected, published });
    expect(published.length, `DiskHeadroom points published since ${from.toISOString()}`).toBeGreaterThan(0);
    for (const point of published) {
      expect(point.value, `DiskHeadroom published at ${point.at} against statfs's available blocks under ${stateDir} (${diskBefore.disk.command}) before and after`).toBeGreaterThanOrEqual(expected.low);
      expect(point.value, `DiskHeadroom published at ${point.at} against statfs's available blocks under ${stateDir} (${diskBefore.disk.command}) before and after`).toBeLessThanOrEqual(expected.high);
    }
  });
});
