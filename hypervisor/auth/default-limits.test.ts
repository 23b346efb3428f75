import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, type Reply } from './testing/auth-client.ts';
import { startAuthServer, type AuthServer } from './testing/auth-server.ts';

// README: failed logins are limited per client (50 in 15 minutes); wrong recovery codes per account
// (5) and per client (20), in 15 minutes too. The auth server here is built with no limits given.
const wrongCode = 'aaaaa-bbbbb-ccccc-ddddd';
const fifteenMinutesS = 15 * 60;

/** The Retry-After of a refusal lies inside the 15-minute window and well past a minute of it. */
function expectRefusedForTheWindow(reply: Reply, what: string): void {
  expect(reply.status, what).toBe(429);
  const retryAfter = Number(reply.headers['retry-after']);
  expect(retryAfter, `${what}: Retry-After`).toBeGreaterThan(60);
  expect(retryAfter, `${what}: Retry-After`).toBeLessThanOrEqual(fifteenMinutesS);
}

describe('the default failed-attempt limits', () => {
  let server: AuthServer;
  beforeAll(async () => {
    server = await startAuthServer();
  });
  afterAll(() => server.close());

  it('lets a client fail 50 logins in 15 minutes and refuses the 51st with 429', async () => {
    // A login/finish that does not even parse is a failed attempt: it is counted before the body is read.
    const statuses: number[] = [];
    for (let i = 0; i < 50; i += 1) statuses.push((await postJson(server, '/auth/login/finish', {})).status);
    expect(statuses.filter((status) => status === 400)).toHaveLength(50);
    expectRefusedForTheWindow(await postJson(server, '/auth/login/finish', {}), 'the 51st failed login');
  });

  it('lets an account take 5 wrong recovery codes in 15 minutes, whatever case its name is typed in, and refuses the 6th with 429', async () => {
    const statuses: number[] = [];
    for (const username of ['ghost-one', 'Ghost-One', 'GHOST-ONE', 'ghost-ONE', 'gHost-one']) statuses.push((await postJson(server, '/auth/recovery', { username, code: wrongCode })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    expectRefusedForTheWindow(await postJson(server, '/auth/recovery', { username: 'ghost-one', code: wrongCode }), 'the 6th wrong code for one account');
  });
});

describe('the default failed-attempt limits, per client', () => {
  let server: AuthServer;
  beforeAll(async () => {
    server = await startAuthServer();
  });
  afterAll(() => server.close());

  it('lets a client take 20 wrong recovery codes in 15 minutes across accounts and refuses the 21st with 429', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i += 1) statuses.push((await postJson(server, '/auth/recovery', { username: `stranger-${i}`, code: wrongCode })).status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(20);
    expectRefusedForTheWindow(await postJson(server, '/auth/recovery', { username: 'stranger-last', code: wrongCode }), 'the 21st wrong code from one client');
    // Twenty argon2id hashes in a row: room for a busy machine.
  }, 180_000);
});
