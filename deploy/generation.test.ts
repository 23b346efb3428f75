import { describe, expect, it } from 'vitest';
import { hypervisorEnvironment } from './generation.ts';

describe("the host generation's hypervisor environment", () => {
  const routing = { hostName: 'choiros.example.com', httpPort: 80, httpsPort: 443, bind: undefined, tls: 'acme' as const, acmeEmail: 'ops@example.com', hypervisorPort: 8080 };

  it("gives WebAuthn the origin a browser reports for the host's HTTPS URL: no port at 443, the port otherwise", () => {
    expect(hypervisorEnvironment({ routing }).WEBAUTHN_RP_ORIGIN).toBe('https://choiros.example.com');
    expect(hypervisorEnvironment({ routing: { ...routing, httpsPort: 18443 } }).WEBAUTHN_RP_ORIGIN).toBe('https://choiros.example.com:18443');
  });

  it('binds the hypervisor to loopback on its described port, and extra environment wins', () => {
    const env = hypervisorEnvironment({ routing, hypervisorEnv: { HYPERVISOR_KNOWN_GOOD_RETAIN: '7' } });
    expect(env).toMatchObject({ HYPERVISOR_HOST: '127.0.0.1', HYPERVISOR_PORT: '8080', WEBAUTHN_RP_ID: 'choiros.example.com', HYPERVISOR_KNOWN_GOOD_RETAIN: '7' });
  });
});
