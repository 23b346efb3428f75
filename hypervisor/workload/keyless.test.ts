import { describe, expect, test } from 'vitest';
import { assertKeyless, isManaged, KeylessViolationError, providerKeysIn } from './keyless.ts';

describe('keyless mode', () => {
  test('any CHOIR_SANDBOX_* variable means managed mode', () => {
    expect(isManaged({ CHOIR_SANDBOX_ROLE: 'live' })).toBe(true);
    expect(isManaged({ CHOIR_SANDBOX_ID: 'u:dev' })).toBe(true);
    expect(isManaged({ PORT: '8080', CHOIROS_DATA_DIR: '/data' })).toBe(false);
    expect(isManaged({ CHOIR_SANDBOXES: '2', CHOIR_SANDBOX: 'x' }), 'the prefix includes its underscore').toBe(false);
  });

  test('provider keys are found by name and by the *_API_KEY / *_SECRET_ACCESS_KEY patterns', () => {
    const env = { OPENAI_API_KEY: 'x', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', ACME_API_KEY: 'x', API_KEY: 'x', API_KEY_FILE: '/run/k', KEYBOARD: 'us', PATH: '/bin' };
    expect(providerKeysIn(env)).toEqual(['ACME_API_KEY', 'API_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'OPENAI_API_KEY']);
  });

  test('a managed sandbox with a provider key is refused, naming the variables and never their values', () => {
    const check = (): void => assertKeyless({ CHOIR_SANDBOX_ROLE: 'live', ANTHROPIC_API_KEY: 'sk-ant-secret-value', GROQ_API_KEY: 'gsk-secret' });
    expect(check).toThrow(KeylessViolationError);
    expect(check).toThrow(/ANTHROPIC_API_KEY, GROQ_API_KEY/);
    try {
      check();
    } catch (error) {
      expect((error as Error).message).not.toMatch(/sk-ant-secret-value|gsk-secret/);
    }
  });

  test('an unmanaged sandbox (a developer running it by hand) may start with keys in its environment', () => {
    expect(() => assertKeyless({ OPENAI_API_KEY: 'sk-dev' })).not.toThrow();
  });

  test('a managed sandbox without provider keys starts', () => {
    expect(() => assertKeyless({ CHOIR_SANDBOX_ROLE: 'dev', CHOIR_SANDBOX_USER_ID: 'u1', PATH: '/bin' })).not.toThrow();
  });

  test('the platform secrets named in ADR-0003 are refused too: the admin token and AWS session credentials, and the named provider tokens', () => {
    for (const name of ['HYPERVISOR_ADMIN_TOKEN', 'AWS_SESSION_TOKEN', 'AWS_ACCESS_KEY_ID', 'HF_TOKEN', 'OPENROUTER_API_KEY']) {
      expect(() => assertKeyless({ CHOIR_SANDBOX_ID: 'u1:live', [name]: 'secret' }), name).toThrow(KeylessViolationError);
    }
  });

  test('a key name whose value is unset (undefined) is not a key the sandbox holds', () => {
    expect(providerKeysIn({ OPENAI_API_KEY: undefined, ACME_API_KEY: 'x' })).toEqual(['ACME_API_KEY']);
    expect(() => assertKeyless({ CHOIR_SANDBOX_ROLE: 'live', OPENAI_API_KEY: undefined })).not.toThrow();
  });
});
