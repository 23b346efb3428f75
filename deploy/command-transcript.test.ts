import { describe, expect, it } from 'vitest';
import { CommandTranscript, redactedMark } from './command-transcript.ts';
import { caddyfile } from './generation.ts';

describe('the deployment command transcript', () => {
  it('keeps every command with its exit status, duration and output, in order', () => {
    const transcript = new CommandTranscript();
    transcript.add({ step: 'copy the closure', command: 'nix copy --to ssh://root@h /nix/store/x', exitCode: 0, ms: 1234.4, output: 'copying 1 paths...' });
    transcript.add({ step: 'activate', command: 'switch-to-configuration switch', exitCode: 3, ms: 10, output: 'failed' });
    transcript.note('no change');
    expect(transcript.text()).toMatch(/\[copy the closure\] \$ nix copy --to ssh:\/\/root@h \/nix\/store\/x\n {2}exit 0 in 1234 ms\n {2}\| copying 1 paths\.\.\.\n.*\[activate\] \$ switch-to-configuration switch\n {2}exit 3 in 10 ms\n {2}\| failed\n.* # no change\n$/s);
  });

  it('redacts a secret wherever it would appear: command, output and notes', () => {
    const transcript = new CommandTranscript();
    const token = 'c2VjcmV0LXRva2VuLXZhbHVl';
    transcript.redact(token);
    transcript.add({ step: 'install', command: `echo ${token}`, exitCode: 0, ms: 1, output: `token=${token}` });
    transcript.note(`used ${token}`);
    expect(transcript.text()).not.toContain(token);
    expect(transcript.text().split(redactedMark)).toHaveLength(4);
  });
});

describe("the host generation's Caddyfile", () => {
  const routing = { hostName: 'choiros.example.com', httpPort: 80, httpsPort: 443, bind: undefined, tls: 'acme' as const, acmeEmail: 'ops@example.com', hypervisorPort: 8080 };

  it('uses ACME with the contact address in production and proxies to the loopback hypervisor', () => {
    const text = caddyfile(routing);
    expect(text).toContain('email ops@example.com');
    expect(text).not.toContain('local_certs');
    expect(text).toContain('reverse_proxy 127.0.0.1:8080');
  });

  it("uses Caddy's internal CA and a loopback bind for a local stand-in, redirecting HTTP to its HTTPS port", () => {
    const text = caddyfile({ ...routing, httpPort: 18080, httpsPort: 18443, bind: '127.0.0.1', tls: 'internal', acmeEmail: undefined });
    expect(text).toContain('local_certs');
    expect(text).toContain('bind 127.0.0.1');
    expect(text).toContain('redir https://{host}:18443{uri} 308');
  });
});
