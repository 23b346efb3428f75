import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../http/errors.ts';
import { readJson, sendError, sendJson } from '../http/json.ts';
import { dispatch, type Route, type RouteContext } from '../http/router.ts';
import type { Conductor } from './conductor.ts';
import type { DesktopAsset } from './desktop.ts';
import { parseExecuteRequest } from './execute-request.ts';
import { receivedPath, sendReceived } from './received.ts';
import { receivedBodyPath, sendReceivedBody } from './received-body.ts';
import { answerHeadersPath, sendAnswerHeaders } from './answer-headers.ts';
import { healthAnswers } from './health.ts';
import { runsListAnswers } from './diagnostic-faults.ts';
import { runView, type Run } from './run.ts';
import type { RunStore } from './run-store.ts';
import type { SandboxSettings } from './settings.ts';

export interface RouteDeps {
  settings: SandboxSettings;
  store: RunStore;
  conductor: Conductor;
  desktop: Map<string, DesktopAsset>;
  /** Called after every /health answer (the SANDBOX_CRASH_AFTER_HEALTHY_MS diagnostic listens). */
  afterHealthAnswer?: () => void;
}

const maxListedRuns = 200;

function listLimit(raw: string | null): number {
  if (raw === null) return 50;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > maxListedRuns) throw new HttpError(400, `limit must be a whole number from 1 to ${maxListedRuns}`, { field: 'limit' });
  return limit;
}

/** A JSON body, required: an empty one is refused (400) like a malformed one. */
async function requiredJson(req: IncomingMessage): Promise<unknown> {
  const body = await readJson(req);
  if (body === undefined) throw new HttpError(400, 'request body is empty: send a JSON object');
  return body;
}

/** The sandbox's HTTP surface: health, the conductor API and the desktop page. */
export function createRoutes(deps: RouteDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { settings, store, conductor, desktop } = deps;
  const nextHealth = healthAnswers(settings);
  const mayListRuns = runsListAnswers(settings);
  const health = async ({ res }: RouteContext): Promise<void> => {
    sendJson(res, 200, nextHealth());
    deps.afterHealthAnswer?.();
  };
  const run = ({ params }: RouteContext): Run => {
    const found = store.get(params.runId as string);
    if (!found) throw new HttpError(404, `no run with id "${params.runId}"`);
    return found;
  };
  const routes: Route[] = [
    // Behind the hypervisor, /health is the hypervisor's own; the desktop page reads its sandbox's at /desktop/health.
    ...['/health', '/desktop/health'].flatMap((path): Route[] => [
      { method: 'GET', path, handle: health },
      { method: 'HEAD', path, handle: health },
    ]),
    {
      method: 'POST',
      path: '/conductor/execute',
      async handle({ req, res }) {
        const started = conductor.execute(parseExecuteRequest(await requiredJson(req)));
        sendJson(res, 202, { run_id: started.runId, status: started.status });
      },
    },
    {
      method: 'GET',
      path: '/conductor/runs',
      async handle({ res, url }) {
        if (!mayListRuns()) throw new HttpError(500, `the run list is answered with an error on purpose: this release sets SANDBOX_RUNS_OK_ANSWERS=${String(settings.runsOkAnswers)} and that many answers were given`);
        const desktopId = url.searchParams.get('desktop_id') ?? undefined;
        const runs = store.list({ limit: listLimit(url.searchParams.get('limit')), ...(desktopId === undefined ? {} : { desktopId }) });
        sendJson(res, 200, { runs: runs.map(runView) });
      },
    },
    // What reached this sandbox through the proxy (received.ts): gates read it on any target running this workload.
    { method: 'GET', path: receivedPath, handle: async ({ req, res }) => sendReceived(req, res) },
    // How many body bytes reached this sandbox (received-body.ts): gates check the proxy's request body limit with it.
    { method: 'POST', path: receivedBodyPath, handle: ({ req, res }) => sendReceivedBody(req, res) },
    // Headers that act on the page's origin, sent on request (answer-headers.ts): gates check the proxy drops them.
    { method: 'GET', path: answerHeadersPath, handle: async ({ req, res, url }) => sendAnswerHeaders(req, url, res) },
    { method: 'GET', path: '/conductor/runs/:runId', handle: async (context) => sendJson(context.res, 200, runView(run(context))) },
    {
      method: 'GET',
      path: '/conductor/runs/:runId/document',
      async handle(context) {
        const { status } = run(context);
        const runId = context.params.runId as string;
        const document = store.document(runId);
        if (!document) throw new HttpError(404, `run "${runId}" has no document (status ${status})`);
        sendJson(context.res, 200, { run_id: runId, path: document.path, sha256: document.sha256, content: document.content });
      },
    },
  ];
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    if (await dispatch(routes, req, res, url)) return;
    const asset = desktop.get(url.pathname);
    if (!asset) throw new HttpError(404, `nothing at ${url.pathname}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `method ${req.method} is not allowed on ${url.pathname}: use GET, HEAD`, {}, { allow: 'GET, HEAD' });
    res.writeHead(200, { 'content-type': asset.contentType, 'content-length': asset.body.length, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  };
}

/** Wraps the routes so a refused request gets its JSON error and anything else a logged 500. */
export function handleErrors(
  routes: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  onUnexpected: (error: unknown, req: IncomingMessage) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    routes(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (error instanceof HttpError) return sendError(res, error);
      onUnexpected(error, req);
      sendError(res, new HttpError(500, 'internal error; see the sandbox log'));
    });
  };
}
