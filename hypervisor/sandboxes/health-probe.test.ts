import { afterAll, describe, expect, it } from 'vitest';
import { allocatePort } from './ports.ts';
import { NotReadyError, probeHealth, waitUntilHealthy } from './health-probe.ts';
import { closeAnsweringSandboxes, sandboxAnswering, sandboxServing } from './testing/sandbox-answering.ts';

afterAll(closeAnsweringSandboxes);

async function notReady(wait: Promise<unknown>): Promise<NotReadyError> {
  const error = await wait.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(NotReadyError);
  return error as NotReadyError;
}

describe('sandbox readiness', () => {
  it('is a healthy answer for the expected role; a sandbox that does not say its role, or any role when none is expected, will do', async () => {
    const live = await sandboxAnswering({ status: 'healthy', instance_role: 'live', version: '1.2.3' });
    const silent = await sandboxAnswering({ status: 'healthy' });
    expect(await waitUntilHealthy({ port: live, role: 'live', deadlineMs: 5_000 })).toEqual({ status: 'healthy', instance_role: 'live', version: '1.2.3' });
    expect(await waitUntilHealthy({ port: live, deadlineMs: 5_000 })).toMatchObject({ instance_role: 'live' });
    expect(await waitUntilHealthy({ port: silent, role: 'dev', deadlineMs: 5_000 })).toEqual({ status: 'healthy' });
  });

  it('never comes from a sandbox answering as the other role, and the refusal names both roles', async () => {
    const dev = await sandboxAnswering({ status: 'healthy', instance_role: 'dev' });
    const error = await notReady(waitUntilHealthy({ port: dev, role: 'live', deadlineMs: 1_000 }));
    expect(error.message).toBe(`GET http://127.0.0.1:${dev}/health did not answer healthy within 1000 ms (it answered as role "dev", expected live)`);
  });

  // The deadline cuts the last probe short: a sandbox slow to answer it still answered as the other role before.
  it('names the role the sandbox answered as, even when a later probe got no answer', async () => {
    let answered = 0;
    const port = await sandboxServing((_req, res) => {
      answered += 1;
      if (answered === 1) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'healthy', instance_role: 'dev' }));
      // Later probes hang: each ends at its own timeout, the last one at the deadline.
    });
    const error = await notReady(waitUntilHealthy({ port, role: 'live', deadlineMs: 1_500 }));
    expect(answered).toBeGreaterThanOrEqual(2);
    expect(error.message).toBe(`GET http://127.0.0.1:${port}/health did not answer healthy within 1500 ms (it answered as role "dev", expected live)`);
  });

  it('fails with how the sandbox exited once it has exited, not with the deadline', async () => {
    const nobody = await allocatePort(new Set());
    const error = await notReady(waitUntilHealthy({ port: nobody, role: 'live', deadlineMs: 30_000, exited: Promise.resolve('exit code 3') }));
    expect(error.message).toBe('the sandbox exited before it became healthy (exit code 3)');
  });

  it('probes once: a degraded sandbox or a closed port is not healthy', async () => {
    const degraded = await sandboxAnswering({ status: 'degraded', instance_role: 'live' });
    expect(await probeHealth(degraded)).toBeUndefined();
    expect(await probeHealth(await allocatePort(new Set()))).toBeUndefined();
  });

  it('by default waits for an answer that is not instant (a second, in milliseconds): a sandbox answering after 100 ms is healthy', async () => {
    const port = await sandboxServing((_req, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'healthy', instance_role: 'live' })), 100);
    });
    expect(await probeHealth(port)).toMatchObject({ status: 'healthy' });
  });

  it('a "healthy" body under any status but 200 is not healthy', async () => {
    expect(await probeHealth(await sandboxAnswering({ status: 'healthy', instance_role: 'live' }, 503))).toBeUndefined();
  });
});
