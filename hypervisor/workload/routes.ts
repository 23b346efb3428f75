import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Conductor } from './conductor.ts';
import type { DesktopAsset } from './desktop.ts';
import { parseExecuteRequest } from './execute-request.ts';
import { receivedPath, sendReceived } from './received.ts';
import { healthBody } from './health.ts';
import { HttpError, readJsonBody, sendError, sendJson } from './http-json.ts';
import { runView } from './run.ts';
import type { RunStore } from './run-store.ts';
import type { SandboxSettings } from './settings.ts';

export interface RouteDeps {
  settings: SandboxSettings;
  store: RunStore;
  conductor: Conductor;
  desktop: Map<string, DesktopAsset>;
}

const runPath = /^\/conductor\/runs\/([^/]+)(\/document)?$/;
const maxListedRuns = 200;

function allow(req: IncomingMessage, ...methods: string[]): void {
  if (!methods.includes(req.method ?? '')) throw new HttpError(405, `${req.method} is not allowed here; use ${methods.join(' or ')}`);
}

function listLimit(raw: string | null): number {
  if (raw === null) return 50;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > maxListedRuns) throw new HttpError(400, `limit must be a whole number from 1 to ${maxListedRuns}`, 'limit');
  return limit;
}

function decodedRunId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, `run id "${raw}" is not valid URL encoding`, 'run_id');
  }
}

/** The sandbox's HTTP surface: health, the conductor API and the desktop page. */
export function createRoutes(deps: RouteDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { settings, store, conductor, desktop } = deps;
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const pathname = url.pathname;
    // Behind the hypervisor, /health is the hypervisor's own; the desktop page reads its sandbox's at /desktop/health.
    if (pathname === '/health' || pathname === '/desktop/health') {
      allow(req, 'GET', 'HEAD');
      return sendJson(res, 200, healthBody(settings));
    }
    if (pathname === receivedPath) return sendReceived(req, res);
    if (pathname === '/conductor/execute') {
      allow(req, 'POST');
      const request = parseExecuteRequest(await readJsonBody(req));
      const run = conductor.execute(request);
      return sendJson(res, 202, { run_id: run.runId, status: run.status });
    }
    if (pathname === '/conductor/runs') {
      allow(req, 'GET');
      const desktopId = url.searchParams.get('desktop_id') ?? undefined;
      const runs = store.list({ limit: listLimit(url.searchParams.get('limit')), ...(desktopId === undefined ? {} : { desktopId }) });
      return sendJson(res, 200, { runs: runs.map(runView) });
    }
    const runMatch = runPath.exec(pathname);
    if (runMatch?.[1]) {
      allow(req, 'GET');
      const runId = decodedRunId(runMatch[1]);
      const run = store.get(runId);
      if (!run) throw new HttpError(404, `no run with id "${runId}"`);
      if (!runMatch[2]) return sendJson(res, 200, runView(run));
      const document = store.document(runId);
      if (!document) throw new HttpError(404, `run "${runId}" has no document (status ${run.status})`);
      return sendJson(res, 200, { run_id: runId, path: document.path, sha256: document.sha256, content: document.content });
    }
    const asset = desktop.get(pathname);
    if (asset) {
      allow(req, 'GET', 'HEAD');
      res.writeHead(200, { 'content-type': asset.contentType, 'content-length': asset.body.length, 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : asset.body);
      return;
    }
    throw new HttpError(404, `nothing at ${pathname}`);
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
