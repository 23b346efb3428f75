import { describe, expect, it } from 'vitest';
import { optionVariables, settingOf, variableValue } from './option-variables.ts';

describe("the option -> variable table, read from the options' descriptions", () => {
  const table = optionVariables({
    optionDescriptions: [
      { path: ['stopTimeout'], description: 'Seconds a stopping sandbox gets before it is killed (SANDBOX_STOP_TIMEOUT_SECS).' },
      { path: ['databasePath'], description: 'SQLite database (HYPERVISOR_DATABASE_URL=sqlite:PATH). Must be under the state directory.' },
      { path: ['webauthn', 'rpId'], description: 'WebAuthn relying party id, a domain name (WEBAUTHN_RP_ID).' },
      { path: ['openFirewall'], description: 'Open `port` in the NixOS firewall (no variable).' },
      { path: ['adminTokenFile'], description: 'passed as the systemd credential `admin-token`\n(LoadCredential) so the service reads it from $CREDENTIALS_DIRECTORY.' },
    ],
  });

  it('names a variable only where the description does, nested options by their dotted path', () => {
    expect(table.map((e) => [e.option, e.variable])).toEqual([
      ['stopTimeout', 'SANDBOX_STOP_TIMEOUT_SECS'],
      ['databasePath', 'HYPERVISOR_DATABASE_URL'],
      ['webauthn.rpId', 'WEBAUTHN_RP_ID'],
    ]);
  });

  it("expects the value itself, or the description's template with the value in its placeholder", () => {
    const [stop, database] = table;
    expect(stop && variableValue(stop, 7)).toBe('7');
    expect(database && variableValue(database, '/var/lib/choiros-hypervisor/x.db')).toBe('sqlite:/var/lib/choiros-hypervisor/x.db');
  });

  it('reads a nested setting by its dotted path, undefined where it is not set', () => {
    expect(settingOf({ webauthn: { rpId: 'choir.example.test' } }, 'webauthn.rpId')).toBe('choir.example.test');
    expect(settingOf({ webauthn: { rpId: 'x' } }, 'webauthn.rpName')).toBeUndefined();
    expect(settingOf({}, 'stopTimeout')).toBeUndefined();
  });
});
