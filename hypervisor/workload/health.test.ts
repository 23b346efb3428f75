import { describe, expect, test } from 'vitest';
import { healthAnswers, healthBody } from './health.ts';
import { parseSettings } from './settings.ts';

const statuses = (env: NodeJS.ProcessEnv, count: number): string[] => {
  const next = healthAnswers(parseSettings(env));
  return Array.from({ length: count }, () => next().status);
};

describe('sandbox /health answers', () => {
  test('always healthy unless a release sets SANDBOX_HEALTHY_ANSWERS', () => {
    expect(statuses({}, 5)).toEqual(['healthy', 'healthy', 'healthy', 'healthy', 'healthy']);
  });

  test('SANDBOX_HEALTHY_ANSWERS=N: the first N answers are healthy, every later one degraded', () => {
    expect(statuses({ SANDBOX_HEALTHY_ANSWERS: '2' }, 4)).toEqual(['healthy', 'healthy', 'degraded', 'degraded']);
    expect(statuses({ SANDBOX_HEALTHY_ANSWERS: '0' }, 2)).toEqual(['degraded', 'degraded']);
  });

  test('a bad SANDBOX_HEALTHY_ANSWERS is refused naming the variable', () => {
    expect(() => parseSettings({ SANDBOX_HEALTHY_ANSWERS: 'soon' })).toThrow(/SANDBOX_HEALTHY_ANSWERS="soon" is invalid: use a whole number/);
  });

  test('the body has exactly the contract fields: status, service choiros-sandbox, version, instance_role, hostname', () => {
    const body = healthBody(parseSettings({ CHOIR_SANDBOX_ROLE: 'dev', SANDBOX_VERSION: '1.2.3' }));
    expect(Object.keys(body).sort()).toEqual(['hostname', 'instance_role', 'service', 'status', 'version']);
    expect(body).toMatchObject({ status: 'healthy', service: 'choiros-sandbox', version: '1.2.3', instance_role: 'dev' });
    expect(body.hostname.length).toBeGreaterThan(0);
  });
});
