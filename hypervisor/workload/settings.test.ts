import { describe, expect, test } from 'vitest';
import path from 'node:path';
import { ConfigError } from '../env-values.ts';
import { parseSettings } from './settings.ts';

describe('sandbox settings', () => {
  test('defaults follow the contract: port 8080, role live, 150 ms steps, the database under the data dir', () => {
    const settings = parseSettings({ CHOIROS_DATA_DIR: '/srv/sandbox' });
    expect(settings).toMatchObject({ host: '127.0.0.1', port: 8080, role: 'live', conductorStepMs: 150, dataDir: '/srv/sandbox' });
    expect(settings.databaseUrl).toBe(`sqlite:${path.join('/srv/sandbox', 'sandbox.db')}`);
  });

  test('the managed variables are read as given', () => {
    const settings = parseSettings({
      PORT: '0',
      CHOIR_SANDBOX_ROLE: 'dev',
      CHOIR_SANDBOX_USER_ID: 'u1',
      CHOIR_SANDBOX_ID: 'u1:dev',
      DATABASE_URL: 'sqlite:/data/sandbox.db',
      SANDBOX_CONDUCTOR_STEP_MS: '0',
      SANDBOX_VERSION: '9.9.9',
    });
    expect(settings).toMatchObject({ port: 0, role: 'dev', userId: 'u1', sandboxId: 'u1:dev', databaseUrl: 'sqlite:/data/sandbox.db', conductorStepMs: 0, version: '9.9.9' });
  });

  test.each([
    ['SANDBOX_CONDUCTOR_STEP_MS', 'abc', /SANDBOX_CONDUCTOR_STEP_MS="abc" is invalid: use a whole number from 0 to 60000/],
    ['SANDBOX_CONDUCTOR_STEP_MS', '-5', /SANDBOX_CONDUCTOR_STEP_MS="-5"/],
    ['PORT', '70000', /PORT="70000" is invalid/],
    ['CHOIR_SANDBOX_ROLE', 'prod', /CHOIR_SANDBOX_ROLE="prod" is invalid: role must be 'live' or 'dev'/],
    ['DATABASE_URL', 'postgres://db/sandbox', /DATABASE_URL="postgres:\/\/db\/sandbox" is invalid: use sqlite:PATH/],
  ])('%s=%s is refused with a message naming the variable', (name, value, message) => {
    const parse = (): unknown => parseSettings({ [name]: value });
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(message);
  });

  test('without CHOIROS_DATA_DIR the data lives in ./data/sandbox; DATABASE_URL needs a path after sqlite:', () => {
    expect(parseSettings({}).dataDir).toBe(path.resolve('data', 'sandbox'));
    expect(() => parseSettings({ DATABASE_URL: 'sqlite:' })).toThrow(/DATABASE_URL="sqlite:" is invalid/);
  });
});

describe('sandbox settings at their bounds', () => {
  test.each([
    ['PORT', '65535', '65536', 'port'],
    ['SANDBOX_CONDUCTOR_STEP_MS', '60000', '60001', 'conductorStepMs'],
    ['SANDBOX_HEALTHY_ANSWERS', '1000000', '1000001', 'healthyAnswers'],
    ['SANDBOX_RUNS_OK_ANSWERS', '1000000', '1000001', 'runsOkAnswers'],
    ['SANDBOX_CRASH_AFTER_HEALTHY_MS', '60000', '60001', 'crashAfterHealthyMs'],
    ['SANDBOX_STOP_LISTENING_AFTER_HEALTHY_MS', '60000', '60001', 'stopListeningAfterHealthyMs'],
  ] as const)('%s takes %s and refuses %s', (name, highest, tooHigh, setting) => {
    expect(parseSettings({ [name]: highest })[setting]).toBe(Number(highest));
    expect(() => parseSettings({ [name]: tooHigh })).toThrow(`${name}="${tooHigh}" is invalid`);
  });

  // 0 is a setting ("never healthy", "crash at once"), not the absence of one.
  test.each([
    ['SANDBOX_HEALTHY_ANSWERS', 'healthyAnswers'],
    ['SANDBOX_RUNS_OK_ANSWERS', 'runsOkAnswers'],
    ['SANDBOX_CRASH_AFTER_HEALTHY_MS', 'crashAfterHealthyMs'],
    ['SANDBOX_STOP_LISTENING_AFTER_HEALTHY_MS', 'stopListeningAfterHealthyMs'],
  ] as const)('%s=0 is 0, and unset is undefined (the fault never happens)', (name, setting) => {
    expect(parseSettings({ [name]: '0' })[setting]).toBe(0);
    expect(parseSettings({})[setting]).toBeUndefined();
  });

  test('a managed sandbox reports who it is; a blank id is no id', () => {
    expect(parseSettings({ CHOIR_SANDBOX_USER_ID: '', CHOIR_SANDBOX_ID: '' })).toMatchObject({ userId: undefined, sandboxId: undefined });
    expect(parseSettings({ SANDBOX_HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });
});
