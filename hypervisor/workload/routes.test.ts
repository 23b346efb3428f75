import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetch } from 'undici';
import type { RunView } from './run.ts';
import { startSandboxInProcess, type InProcessSandbox } from './testing/sandbox-in-process.ts';

/** Steps of 0 ms: runs finish on their own. */
let quick: InProcessSandbox;
/** Steps of 10 s: a run started here is still going when the test looks. */
let slow: InProcessSandbox;

beforeAll(async () => {
  quick = await startSandboxInProcess();
  slow = await startSandboxInProcess({ SANDBOX_CONDUCTOR_STEP_MS: '10000' });
});

afterAll(async () => {
  await quick?.dispose();
  await slow?.dispose();
});

async function execute(sandbox: InProcessSandbox, body: object): Promise<{ status: number; answer: Record<string, unknown> }> {
  const response = await fetch(`${sandbox.url}/conductor/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, answer: (await response.json()) as Record<string, unknown> };
}

async function finished(sandbox: InProcessSandbox, runId: string): Promise<RunView> {
  for (let polls = 0; ; polls += 1) {
    const run = (await (await fetch(`${sandbox.url}/conductor/runs/${runId}`)).json()) as RunView;
    if (run.status === 'completed' || run.status === 'failed' || polls > 400) return run;
    await sleep(25);
  }
}

const listed = async (sandbox: InProcessSandbox, query: string): Promise<{ status: number; body: { runs?: RunView[]; field?: string; error?: string } }> => {
  const response = await fetch(`${sandbox.url}/conductor/runs${query}`);
  return { status: response.status, body: (await response.json()) as { runs?: RunView[]; field?: string } };
};

describe('the sandbox HTTP routes (in process)', () => {
  test('POST /conductor/execute answers 202 with the run id and status initializing', async () => {
    const { status, answer } = await execute(slow, { objective: 'accepted', desktop_id: 'desk-202' });
    expect(status).toBe(202);
    expect(answer).toEqual({ run_id: expect.any(String), status: 'initializing' });
  });

  test('GET /conductor/runs: 50 runs when no limit is given, limit 1-200 taken, anything else 400 naming limit', async () => {
    for (let i = 0; i < 52; i += 1) await execute(slow, { objective: `run ${i}`, desktop_id: 'desk-limit' });
    expect((await listed(slow, '?desktop_id=desk-limit')).body.runs).toHaveLength(50);
    expect((await listed(slow, '?desktop_id=desk-limit&limit=1')).body.runs?.map((r) => r.objective)).toEqual(['run 51']);
    expect((await listed(slow, '?desktop_id=desk-limit&limit=200')).body.runs).toHaveLength(52);
    for (const limit of ['0', '201', '-1', '1.5', 'ten', '']) {
      const refused = await listed(slow, `?limit=${limit}`);
      expect(refused.status, `limit=${limit}`).toBe(400);
      expect(refused.body.field, `limit=${limit}`).toBe('limit');
    }
  });

  test('GET /conductor/runs/:id of a finished run has the contract fields, only those that apply', async () => {
    const { answer } = await execute(quick, { objective: 'Shape of a run', desktop_id: 'desk-shape', output_mode: 'auto' });
    const run = await finished(quick, String(answer.run_id));
    expect(run.status).toBe('completed');
    expect(Object.keys(run).sort()).toEqual(['created_at', 'desktop_id', 'document_path', 'finished_at', 'objective', 'output_mode', 'run_id', 'status', 'steps_done', 'steps_total', 'updated_at']);
    expect(run).toMatchObject({ desktop_id: 'desk-shape', objective: 'Shape of a run', output_mode: 'auto', steps_done: run.steps_total });
  });

  test("GET /conductor/runs/:id/document answers the report with its sha256; 404 for a run without one and for an unknown run", async () => {
    const { answer } = await execute(quick, { objective: 'Document me', desktop_id: 'desk-doc' });
    const runId = String(answer.run_id);
    const run = await finished(quick, runId);
    const response = await fetch(`${quick.url}/conductor/runs/${runId}/document`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { run_id: string; path: string; sha256: string; content: string };
    expect(document).toMatchObject({ run_id: runId, path: run.document_path });
    expect(document.sha256).toBe(createHash('sha256').update(document.content).digest('hex'));

    const going = await execute(slow, { objective: 'not yet', desktop_id: 'desk-doc' });
    expect((await fetch(`${slow.url}/conductor/runs/${String(going.answer.run_id)}/document`)).status).toBe(404);
    expect((await fetch(`${slow.url}/conductor/runs/no-such-run/document`)).status).toBe(404);
  });

  test('/desktop/health answers as /health does, to GET and HEAD', async () => {
    for (const path of ['/health', '/desktop/health']) {
      const response = await fetch(`${quick.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(await response.json(), path).toMatchObject({ status: 'healthy', service: 'choiros-sandbox', instance_role: 'live' });
      expect((await fetch(`${quick.url}${path}`, { method: 'HEAD' })).status, `HEAD ${path}`).toBe(200);
    }
  });

  test('the desktop page answers GET and HEAD only (405 naming them), and an unknown path 404 as JSON', async () => {
    const posted = await fetch(`${quick.url}/`, { method: 'POST' });
    expect(posted.status).toBe(405);
    expect(posted.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(`${quick.url}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/^text\/html/);
    const missing = await fetch(`${quick.url}/no-such-page`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'nothing at /no-such-page' });
  });

  test('a POST /conductor/execute body over 64 KiB is refused with 413, an empty one with 400', async () => {
    const big = await fetch(`${quick.url}/conductor/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ objective: 'x'.repeat(70_000), desktop_id: 'd' }) });
    expect(big.status).toBe(413);
    const empty = await fetch(`${quick.url}/conductor/execute`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: string }).error).toMatch(/body is empty/);
  });
});

describe('SANDBOX_RUNS_OK_ANSWERS (in process)', () => {
  test('GET /conductor/runs answers its list that many times, then 500 with a JSON error, while /health stays healthy', async () => {
    const sandbox = await startSandboxInProcess({ SANDBOX_RUNS_OK_ANSWERS: '2' });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await listed(sandbox, '')).status);
      expect(statuses).toEqual([200, 200, 500, 500]);
      expect((await listed(sandbox, '')).body.error).toMatch(/SANDBOX_RUNS_OK_ANSWERS=2/);
      expect(await (await fetch(`${sandbox.url}/health`)).json()).toMatchObject({ status: 'healthy' });
    } finally {
      await sandbox.dispose();
    }
  });
});
