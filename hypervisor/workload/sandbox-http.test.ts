import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fetch, type Response } from 'undici';
import { removeDataDir, startSandboxProcess, type SandboxProcess } from './testing/sandbox-process.ts';
import type { RunView } from './run.ts';

let sandbox: SandboxProcess;

beforeAll(async () => {
  sandbox = await startSandboxProcess({
    env: { CHOIR_SANDBOX_ROLE: 'dev', CHOIR_SANDBOX_USER_ID: 'http-test-user', CHOIR_SANDBOX_ID: 'http-test-user:dev', SANDBOX_CONDUCTOR_STEP_MS: '20' },
  });
});

afterAll(async () => {
  await sandbox?.stop();
  if (sandbox) removeDataDir(sandbox.dataDir);
});

const post = (body: string): Promise<Response> =>
  fetch(`${sandbox.url}/conductor/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

async function runUntilFinished(runId: string): Promise<RunView> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const run = (await (await fetch(`${sandbox.url}/conductor/runs/${runId}`)).json()) as RunView;
    if (run.status === 'completed' || run.status === 'failed' || Date.now() > deadline) return run;
    await sleep(25);
  }
}

describe('sandbox HTTP API (child process)', () => {
  test('GET /health answers the contract shape with the role it was given', async () => {
    const response = await fetch(`${sandbox.url}/health`);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(Object.keys(body as object).sort()).toEqual(['hostname', 'instance_role', 'service', 'status', 'version']);
    expect(body).toMatchObject({ status: 'healthy', service: 'choiros-sandbox', instance_role: 'dev' });
    expect((body as { version: string }).version).toMatch(/^\d+\.\d+\.\d+/);
  });

  test('GET /diagnostics/received reports which credentials arrived (never their values), and the identity and forwarding headers as received', async () => {
    const bare = await fetch(`${sandbox.url}/diagnostics/received`);
    expect(await bare.json()).toEqual({ credentials: { cookie: 'absent', authorization: 'absent', 'proxy-authorization': 'absent' }, identity: { 'x-choiros-user-id': null, 'x-choiros-sandbox-role': null }, forwarding: { 'x-forwarded-for': null, 'x-forwarded-proto': null, 'x-forwarded-host': null, forwarded: null, 'x-real-ip': null } });
    const sent = await fetch(`${sandbox.url}/diagnostics/received`, { headers: { cookie: 'session=secret-value', authorization: 'Bearer secret-value', 'x-choiros-user-id': 'ann', 'x-choiros-sandbox-role': 'dev', 'x-forwarded-for': '192.0.2.1', 'x-forwarded-proto': 'https' } });
    const text = await sent.text();
    expect(text).not.toContain('secret-value');
    expect(JSON.parse(text)).toEqual({
      credentials: { cookie: 'present', authorization: 'present', 'proxy-authorization': 'absent' }, identity: { 'x-choiros-user-id': 'ann', 'x-choiros-sandbox-role': 'dev' },
      forwarding: { 'x-forwarded-for': '192.0.2.1', 'x-forwarded-proto': 'https', 'x-forwarded-host': null, forwarded: null, 'x-real-ip': null },
    });
    expect((await fetch(`${sandbox.url}/diagnostics/received`, { method: 'POST' })).status).toBe(405);
  });

  test('POST /diagnostics/received-body reads a body to its end and answers how many bytes arrived, declared or chunked', async () => {
    const declared = await fetch(`${sandbox.url}/diagnostics/received-body`, { method: 'POST', body: 'x'.repeat(200_000) });
    expect(await declared.json()).toEqual({ bytes: 200_000 });
    const chunks = async function* () {
      for (let i = 0; i < 50; i += 1) yield new Uint8Array(10_000);
    };
    const chunked = await fetch(`${sandbox.url}/diagnostics/received-body`, { method: 'POST', body: chunks(), duplex: 'half' });
    expect(await chunked.json()).toEqual({ bytes: 500_000 });
  });

  test('GET /diagnostics/answer-headers answers with the origin-state headers asked for, only to a request sending its diagnostic header, and refuses any other name or a control character', async () => {
    const asked = new URLSearchParams([
      ['set-cookie', 'a=1; Path=/'],
      ['Set-Cookie', 'b=2; Path=/'],
      ['clear-site-data', '"cookies"'],
      ['service-worker-allowed', '/'],
      ['Alt-Svc', 'h2="sandbox.example:443"'],
    ]);
    const diagnostic = { 'x-sandbox-diagnostic': 'answer-headers' };
    const unmarked = await fetch(`${sandbox.url}/diagnostics/answer-headers?${asked}`);
    expect(unmarked.status, 'a request without the diagnostic header, as a link or form would send it').toBe(400);
    expect(unmarked.headers.getSetCookie()).toEqual([]);
    expect(unmarked.headers.get('clear-site-data')).toBeNull();
    expect(unmarked.headers.get('service-worker-allowed')).toBeNull();
    expect(((await unmarked.json()) as { error: string }).error).toContain('x-sandbox-diagnostic: answer-headers');
    const wrong = await fetch(`${sandbox.url}/diagnostics/answer-headers?${asked}`, { headers: { 'x-sandbox-diagnostic': 'received' } });
    expect(wrong.status, 'a request with the diagnostic header naming another diagnostic').toBe(400);
    expect(wrong.headers.getSetCookie()).toEqual([]);

    const answer = await fetch(`${sandbox.url}/diagnostics/answer-headers?${asked}`, { headers: diagnostic });
    expect(answer.status).toBe(200);
    expect(answer.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(answer.headers.get('clear-site-data')).toBe('"cookies"');
    expect(answer.headers.get('service-worker-allowed')).toBe('/');
    expect(answer.headers.get('alt-svc')).toBe('h2="sandbox.example:443"');
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await answer.json()).toEqual({ sent: { 'set-cookie': ['a=1; Path=/', 'b=2; Path=/'], 'clear-site-data': ['"cookies"'], 'service-worker-allowed': ['/'], 'alt-svc': ['h2="sandbox.example:443"'] } });

    const other = await fetch(`${sandbox.url}/diagnostics/answer-headers?location=/elsewhere`, { headers: diagnostic });
    expect(other.status).toBe(400);
    expect(other.headers.get('location')).toBeNull();
    expect(((await other.json()) as { error: string }).error).toMatch(/"location" is none of them/);
    const control = await fetch(`${sandbox.url}/diagnostics/answer-headers?set-cookie=${encodeURIComponent('a=1\r\nlocation: /x')}`, { headers: diagnostic });
    expect(control.status).toBe(400);
    expect(((await control.json()) as { error: string }).error).toMatch(/control character/);
  });

  test('POST /conductor/execute starts a run that completes with a Markdown document under the data dir', async () => {
    const response = await post(JSON.stringify({ objective: 'Describe the sandbox contract', desktop_id: 'desk-http' }));
    expect(response.status).toBe(202);
    const started = (await response.json()) as { run_id: string; status: string };
    expect(started.status).toBe('initializing');

    const run = await runUntilFinished(started.run_id);
    expect(run).toMatchObject({ run_id: started.run_id, status: 'completed', desktop_id: 'desk-http', steps_done: run.steps_total });
    expect(run.document_path).toMatch(/^documents\/describe-the-sandbox-contract-[0-9a-f]{8}\.md$/);
    const file = path.join(sandbox.dataDir, run.document_path ?? '');
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain('> Describe the sandbox contract');

    const document = (await (await fetch(`${sandbox.url}/conductor/runs/${started.run_id}/document`)).json()) as { path: string; content: string };
    expect(document.path).toBe(run.document_path);
    expect(document.content).toBe(readFileSync(file, 'utf8'));
  });

  test('GET /conductor/runs lists runs newest first and filters by desktop', async () => {
    const first = (await (await post(JSON.stringify({ objective: 'first', desktop_id: 'desk-list' }))).json()) as { run_id: string };
    const second = (await (await post(JSON.stringify({ objective: 'second', desktop_id: 'desk-list' }))).json()) as { run_id: string };
    const listed = (await (await fetch(`${sandbox.url}/conductor/runs?desktop_id=desk-list`)).json()) as { runs: RunView[] };
    expect(listed.runs.map((r) => r.run_id)).toEqual([second.run_id, first.run_id]);
    const all = (await (await fetch(`${sandbox.url}/conductor/runs`)).json()) as { runs: RunView[] };
    expect(all.runs.some((r) => r.desktop_id === 'desk-http')).toBe(true);
  });

  test('an unknown run id answers 404', async () => {
    const response = await fetch(`${sandbox.url}/conductor/runs/no-such-run`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'no run with id "no-such-run"' });
  });

  test.each([
    ['a missing objective', { desktop_id: 'd' }, 'objective'],
    ['an objective that is not a string', { objective: 42, desktop_id: 'd' }, 'objective'],
    ['a blank objective', { objective: '   ', desktop_id: 'd' }, 'objective'],
    ['a missing desktop_id', { objective: 'x' }, 'desktop_id'],
    ['a desktop_id with spaces', { objective: 'x', desktop_id: 'my desk' }, 'desktop_id'],
    ['an unknown output_mode', { objective: 'x', desktop_id: 'd', output_mode: 'pdf' }, 'output_mode'],
  ])('a body with %s gets 400 naming the field', async (_name, body, field) => {
    const response = await post(JSON.stringify(body));
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { error: string; field: string };
    expect(answer.field).toBe(field);
    expect(answer.error).toContain(field);
  });

  test.each([
    ['not JSON', '{objective:', /not valid JSON/],
    ['a JSON array', '[]', /JSON object/],
    ['empty', '', /empty/],
  ])('a body that is %s gets 400 saying so', async (_name, body, message) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(message);
  });

  test('the desktop page is served at / with the elements the suites use, and relative URLs', async () => {
    const page = await (await fetch(`${sandbox.url}/`)).text();
    expect(page).toContain('<label for="objective">Objective</label>');
    expect(page).toContain('>Start task</button>');
    for (const id of ['run-status', 'run-events', 'run-result', 'sandbox-role']) expect(page).toContain(`data-testid="${id}"`);
    expect(page).not.toMatch(/(src|href)="\//);
    const script = await (await fetch(`${sandbox.url}/desktop.js`)).text();
    expect(script).toContain("new URL('ws', location.href)");
    expect(script).toContain("fetch('conductor/execute'");
    expect(script).not.toMatch(/fetch\(['`]\//);
  });
});
