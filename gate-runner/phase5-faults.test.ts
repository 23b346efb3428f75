import { createServer as createHttpsServer, type Server } from 'node:https';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expiredCertificate, type ExpiredCertificate } from '../fixtures/expired-certificate.ts';
import { startTestHypervisor, type TestHypervisor } from '../fixtures/test-hypervisor.ts';
import { repoRoot } from '../hypervisor/paths.ts';
import { Interruption } from '../integrity/interruption.ts';
import { runGateLines, type LinesRun } from '../integrity/gate-lines.ts';
import { phaseById } from '../suites/phases.ts';

/**
 * Issue #15, "Bad input and faults": the Phase 5 suite, run for real (Playwright as a child, as
 * `npm run gate` runs it) against a described deployed target where everything is wrong at once: its
 * hypervisor URL serves an expired certificate, its SSH port refuses, its CloudWatch endpoint is a
 * closed port. Every line runs and fails with its own reason, none is skipped and none waits out a
 * timeout. No host is booted: the "host" is a TLS server on 127.0.0.1 and two closed ports.
 */

const targetName = 'faulty';
const phase5 = phaseById('phase5');
const titles = phase5.checklist.map((line) => line.text);
// The lines that need only the host over SSH (fixtures/production-host.ts); the playbook needs both
// the host's URL and SSH, and fails on whichever it is refused first.
const sshLines = ['Confirm rollback from current prod generation to previous known-good.', 'Validate logs, restart behavior, and disk/memory headroom.', 'Run smoke suite against deployed host.', 'Smoke suite results attached.'];
const eitherLine = 'Record first operational playbook.';
const metricsLine = 'Runtime metrics snapshot attached.';
const pinnedHostKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

/** A loopback port nothing listens on: bound by the kernel's choice, then released. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Only what Playwright needs from this environment: never a GATE_* of the caller's (its own target), nor vitest's. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const kept = Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && !/^(GATE_|VITEST|TEST$)/.test(entry[0]));
  return { ...Object.fromEntries(kept), ...extra };
}

/**
 * Writes the faulty target's description to targets/<name>.json under `dir` and runs the 13 lines
 * against it, with only `env` of the caller's own GATE_* (the runner's target is not this one).
 */
async function runAgainst(dir: string, label: string, description: Record<string, unknown>, env: Record<string, string>): Promise<LinesRun> {
  const targets = path.join(dir, 'targets');
  await mkdir(targets);
  await writeFile(path.join(targets, `${targetName}.json`), JSON.stringify(description));
  return runGateLines({
    repo: repoRoot,
    logDir: dir,
    project: phase5.id,
    titles,
    label,
    env: childEnv({ GATE_TARGET: targetName, GATE_TARGETS_DIR: targets, ...env }),
    interruption: new Interruption({ graceMs: 10_000 }),
  });
}

describe('Phase 5 against a deployed target with an expired certificate, SSH refused and CloudWatch unreachable', () => {
  let dir: string;
  let server: Server;
  let certificate: ExpiredCertificate;
  let handshakesRefused = 0;
  let url: string;
  let sshPort: number;
  let cloudwatchPort: number;
  let run: LinesRun;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'choiros-phase5-faults-'));
    certificate = await expiredCertificate(dir, '127.0.0.1');
    // It would answer /health as the hypervisor does, were its certificate accepted.
    server = createHttpsServer({ key: certificate.key, cert: certificate.cert }, (request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ status: 'ok' }));
    });
    server.on('tlsClientError', () => handshakesRefused++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    sshPort = await closedPort();
    cloudwatchPort = await closedPort();
    run = await runAgainst(
      dir,
      'phase5-faults',
      {
        summary: 'a deployed host whose certificate expired, whose SSH refuses and whose CloudWatch does not answer',
        hypervisor: { url, adminToken: { env: 'GATE_ADMIN_TOKEN' } },
        deploy: {
          ssh: { host: '127.0.0.1', port: sshPort, user: 'root', identityFile: path.join(dir, 'id_ed25519'), hostKey: pinnedHostKey },
          healthUrl: `${url}/health`,
          routing: { hostName: 'localhost', tls: 'internal', httpsPort: Number(new URL(url).port), hypervisorPort: 8080 },
        },
        cloudwatch: { region: 'us-east-1', host: 'faulty-1', endpoint: `http://127.0.0.1:${cloudwatchPort}` },
      },
      { GATE_ADMIN_TOKEN: 'gate-faults-token' },
    );
  }, 600_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs every one of the 13 lines, and each fails (none skipped, none passed)', () => {
    expect(titles).toHaveLength(13);
    const outcomes = Object.fromEntries([...run.outcomes].map(([title, outcome]) => [title, outcome.status]));
    expect(outcomes, `Playwright's output: ${run.logFile}`).toEqual(Object.fromEntries(titles.map((title) => [title, 'failed'])));
  });

  it('fails the web lines naming the target and its expired certificate', () => {
    expect(handshakesRefused, 'TLS handshakes the expired certificate refused').toBeGreaterThan(0);
    for (const title of titles.filter((t) => !sshLines.includes(t) && t !== eitherLine)) {
      expect(run.outcomes.get(title)?.error, title).toContain(`target ${targetName} does not answer at ${url}/health (certificate has expired)`);
    }
  });

  it('fails the host lines naming the refused SSH, its host and port', () => {
    for (const title of sshLines) {
      expect(run.outcomes.get(title)?.error, title).toContain(`cannot reach SSH at root@127.0.0.1 port ${sshPort}`);
    }
  });

  it('fails the playbook line, which needs both, on one of the two reasons', () => {
    expect(run.outcomes.get(eitherLine)?.error).toMatch(new RegExp(`certificate has expired|cannot reach SSH at root@127\\.0\\.0\\.1 port ${sshPort}`));
  });
});

// Against a hypervisor that answers: the lines that call its admin API, and the gate user's removal.
const adminLines = [
  'One user can run `live` and `dev` sandboxes concurrently behind hypervisor.',
  'Hypervisor can route/swap between live/dev for rollback.',
  'Prior known-good config/image can be restored in bounded time.',
  'live/dev sandbox lifecycle works and route swap succeeds.',
  'Rollback rehearsal passes.',
  'Rollback rehearsal output attached.',
];
const authLine = 'Auth/register/login/recovery flow passes.';

describe('Phase 5 against a hypervisor that answers, with a wrong admin token, SSH refused and CloudWatch unreachable', () => {
  let dir: string;
  let hypervisor: TestHypervisor;
  let cloudwatchEndpoint: string;
  let sshPort: number;
  let url: string;
  let run: LinesRun;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'choiros-phase5-faults-'));
    // A real hypervisor (process sandboxes, no podman) on 127.0.0.1: the host answers, so the line
    // gets as far as CloudWatch. The admin token the run is given is not the hypervisor's.
    hypervisor = await startTestHypervisor();
    // By the name its WebAuthn origin is (localhost), so a gate user registers and the token is what fails.
    url = hypervisor.url.replace('://127.0.0.1:', '://localhost:');
    sshPort = await closedPort();
    cloudwatchEndpoint = `http://127.0.0.1:${await closedPort()}`;
    run = await runAgainst(
      dir,
      'phase5-wrong-token',
      {
        summary: 'a deployed hypervisor given a wrong admin token, whose SSH refuses and whose CloudWatch endpoint does not answer',
        hypervisor: { url, adminToken: { env: 'GATE_ADMIN_TOKEN' } },
        deploy: {
          ssh: { host: '127.0.0.1', port: sshPort, user: 'root', identityFile: path.join(dir, 'id_ed25519'), hostKey: pinnedHostKey },
          healthUrl: `${url}/health`,
          routing: { hostName: 'localhost', tls: 'internal', hypervisorPort: 8080 },
        },
        cloudwatch: { region: 'us-east-1', host: 'faulty-1', endpoint: cloudwatchEndpoint },
        // A thresholds section naming one field: the others are the defaults (targets/README.md).
        thresholds: { diskFreePercent: 30 },
      },
      // Credentials present (any will do for a closed port): the failure is the endpoint's, not the chain's.
      { GATE_ADMIN_TOKEN: 'not-the-hypervisors-token', AWS_ACCESS_KEY_ID: 'gate-faults', AWS_SECRET_ACCESS_KEY: 'gate-faults' },
    );
  }, 600_000);

  afterAll(async () => {
    await hypervisor?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs every one of the 13 lines, and each fails (none skipped, none passed)', () => {
    const outcomes = Object.fromEntries([...run.outcomes].map(([title, outcome]) => [title, outcome.status]));
    expect(outcomes, `Playwright's output: ${run.logFile}`).toEqual(Object.fromEntries(titles.map((title) => [title, 'failed'])));
  });

  it('fails the lines that call the admin API naming the wrong admin token', () => {
    for (const title of adminLines) expect(run.outcomes.get(title)?.error, title).toMatch(/answered 403: the admin token is wrong/);
  });

  it('fails the auth line, which passes otherwise, because its gate user could not be removed, naming the user and the token', () => {
    expect(run.outcomes.get(authLine)?.error).toMatch(/^Error: gate users left on the host, .*gate-[0-9a-f]{8} \(u[0-9a-f]+\): DELETE \/admin\/users\/u[0-9a-f]+ answered 403: the admin token is wrong/);
  });

  it('fails the host lines and the playbook naming the refused SSH, its host and port', () => {
    for (const title of [...sshLines, eitherLine]) expect(run.outcomes.get(title)?.error, title).toContain(`cannot reach SSH at root@127.0.0.1 port ${sshPort}`);
  });

  it('fails the metrics line naming CloudWatch, its endpoint and the host it reads', () => {
    const outcome = run.outcomes.get(metricsLine);
    expect(outcome?.status, `Playwright's output: ${run.logFile}`).toBe('failed');
    expect(outcome?.error).toContain(`cannot read the figures of host faulty-1 (namespace ChoirOS/Hypervisor) from CloudWatch at ${cloudwatchEndpoint} (region us-east-1)`);
    expect(outcome?.error).toContain('ECONNREFUSED');
  });
});
