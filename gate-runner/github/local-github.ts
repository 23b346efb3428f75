import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkflowJob, WorkflowRun } from './actions.ts';
import type { GitHubConnection } from './connection.ts';

/** A request the local server received. */
export interface ReceivedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface LocalComment {
  id: number;
  body: string;
  html_url: string;
}

/** An issue as the server keeps it; the API answers with GitHub's shape of it (`comments` a count). */
export interface LocalIssue {
  repository: string;
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  state_reason: string | null;
  labels: { name: string }[];
  html_url: string;
  comments: LocalComment[];
  /** Set on a pull request: GitHub lists pull requests among the issues, marked by this field. */
  pull_request?: { url: string };
}

export interface LocalRun {
  run: Partial<WorkflowRun> & Pick<WorkflowRun, 'id' | 'status' | 'html_url'>;
  workflow: string;
  branch: string;
  jobs: (Partial<WorkflowJob> & Pick<WorkflowJob, 'id' | 'status'>)[];
}

/**
 * What GitHub's "update branch protection" (PUT …/protection) refuses with 422: each of its four
 * top-level keys must be given (null to leave that protection off), and required status checks,
 * when given, need `strict` and a `contexts` list.
 */
export function protectionBodyProblems(body: Record<string, unknown>): string[] {
  const problems = ['required_status_checks', 'enforce_admins', 'required_pull_request_reviews', 'restrictions'].filter((key) => !(key in body)).map((key) => `"${key}" wasn't supplied.`);
  const checks = body.required_status_checks as { strict?: unknown; contexts?: unknown } | null | undefined;
  if (checks) {
    if (typeof checks.strict !== 'boolean') problems.push('"strict" wasn\'t supplied.');
    if (!Array.isArray(checks.contexts)) problems.push('"contexts" wasn\'t supplied.');
  }
  return problems;
}

/**
 * A local HTTP server on 127.0.0.1 speaking the same REST shapes as api.github.com for what this
 * project uses: repositories, workflow runs (paginated with Link headers), jobs, job logs (302 to a
 * signed download URL that can expire), issues (listed by label and state, paginated; created,
 * commented on, closed), branch protection, and rate limiting. Tests put state in it and read what
 * it received; nothing in it is GitHub itself.
 */
export class LocalGitHub {
  readonly token: string;
  readonly repositories = new Set<string>();
  readonly runs: LocalRun[] = [];
  readonly logs = new Map<number, string>();
  readonly expiredLogs = new Set<number>();
  readonly issues: LocalIssue[] = [];
  readonly protections = new Map<string, unknown>();
  readonly received: ReceivedRequest[] = [];
  /** When true the token may read but not write: every other API request answers 403, as GitHub does for a read-only token. */
  readOnly = false;
  /** When set, every API request answers 403 with x-ratelimit-remaining 0 and this reset (epoch seconds). */
  rateLimitResetEpoch: number | undefined;
  pageSize = 100;
  /** When set, Link rel="next" points at this origin instead of this server (a hostile or broken page link). */
  nextLinkOrigin: string | undefined;
  private nextCommentId = 1;
  private server = createServer((req, res) => void this.handle(req, res));
  private base = '';

  constructor(token = 'ghs_local_stand_in') {
    this.token = token;
  }

  get apiUrl(): string {
    return this.base;
  }

  /** How a client reaches `owner/repo` here with this stand-in's token, for flakes.yml runs on main unless told. */
  connection(fullName: string, workflow = 'flakes.yml', branch = 'main'): GitHubConnection {
    const [owner = '', repo = ''] = fullName.split('/');
    return { apiUrl: this.base, owner, repo, token: this.token, workflow, branch };
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Adds an issue to `repository` as if someone had opened it on GitHub. */
  seed(repository: string, fields: { title: string; body: string; labels: readonly string[]; state?: 'open' | 'closed'; pullRequest?: boolean }): LocalIssue {
    const number = this.issues.filter((issue) => issue.repository === repository).length + 1;
    const issue: LocalIssue = {
      repository,
      number,
      title: fields.title,
      body: fields.body,
      state: fields.state ?? 'open',
      state_reason: null,
      labels: fields.labels.map((name) => ({ name })),
      html_url: `https://github.com/${repository}/issues/${number}`,
      comments: [],
      ...(fields.pullRequest ? { pull_request: { url: `https://api.github.com/repos/${repository}/pulls/${number}` } } : {}),
    };
    this.issues.push(issue);
    return issue;
  }

  private issueView(issue: LocalIssue): object {
    const { repository: _repository, comments, ...fields } = issue;
    return { ...fields, comments: comments.length };
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(body === undefined ? '' : JSON.stringify(body));
  }

  private notFound(res: ServerResponse): void {
    this.send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
  }

  private page<T>(req: URL, items: T[], res: ServerResponse, wrap: (page: T[]) => unknown): void {
    const perPage = Math.min(Number(req.searchParams.get('per_page') ?? 30), this.pageSize);
    const page = Number(req.searchParams.get('page') ?? 1);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = {};
    if (page * perPage < items.length) {
      const next = new URL(req.toString());
      next.searchParams.set('page', String(page + 1));
      if (this.nextLinkOrigin) {
        const elsewhere = new URL(this.nextLinkOrigin);
        next.protocol = elsewhere.protocol;
        next.host = elsewhere.host;
        // Userinfo too: a link whose text begins with the API's own origin may still lead elsewhere.
        next.username = elsewhere.username;
        next.password = elsewhere.password;
      }
      headers.link = `<${next.toString()}>; rel="next"`;
    }
    this.send(res, 200, wrap(slice), headers);
  }

  private handleIssues(repository: string, rest: string, method: string, url: URL, raw: string, res: ServerResponse): void {
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    if (rest === '/issues' && method === 'GET') {
      const state = url.searchParams.get('state') ?? 'open';
      const wanted = (url.searchParams.get('labels') ?? '').split(',').filter(Boolean);
      const matching = this.issues.filter((issue) => issue.repository === repository && (state === 'all' || issue.state === state) && wanted.every((label) => issue.labels.some((l) => l.name === label)));
      return this.page(url, matching, res, (page) => page.map((issue) => this.issueView(issue)));
    }
    if (rest === '/issues' && method === 'POST') {
      if (typeof body.title !== 'string' || !body.title) return this.send(res, 422, { message: 'Validation Failed', errors: [{ resource: 'Issue', field: 'title', code: 'missing_field' }] });
      const labels = Array.isArray(body.labels) ? body.labels.map(String) : [];
      return this.send(res, 201, this.issueView(this.seed(repository, { title: body.title, body: String(body.body ?? ''), labels })));
    }
    const one = /^\/issues\/(\d+)(\/comments)?$/.exec(rest);
    const issue = one ? this.issues.find((i) => i.repository === repository && i.number === Number(one[1])) : undefined;
    if (!one || !issue) return this.notFound(res);
    if (one[2] && method === 'POST') {
      const id = this.nextCommentId++;
      const comment: LocalComment = { id, body: String(body.body ?? ''), html_url: `${issue.html_url}#issuecomment-${id}` };
      issue.comments.push(comment);
      return this.send(res, 201, comment);
    }
    if (!one[2] && method === 'PATCH') {
      if (body.state === 'closed' || body.state === 'open') issue.state = body.state;
      if (typeof body.state_reason === 'string') issue.state_reason = body.state_reason;
      return this.send(res, 200, this.issueView(issue));
    }
    return this.notFound(res);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += (chunk as Buffer).toString();
    const url = new URL(req.url ?? '/', this.base);
    const method = req.method ?? 'GET';
    this.received.push({ method, path: `${url.pathname}${url.search}`, authorization: req.headers.authorization, headers: req.headers, body });

    // The signed log download: no token, may have expired.
    const download = /^\/_signed-logs\/(\d+)$/.exec(url.pathname);
    if (download) {
      const id = Number(download[1]);
      const log = this.logs.get(id);
      if (this.expiredLogs.has(id) || log === undefined) return void res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error><Code>AuthenticationFailed</Code></Error>');
      return void res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(log);
    }
    if (this.rateLimitResetEpoch !== undefined) {
      return this.send(res, 403, { message: 'API rate limit exceeded' }, { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(this.rateLimitResetEpoch) });
    }
    if (req.headers.authorization !== `Bearer ${this.token}`) return this.send(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    if (this.readOnly && method !== 'GET') return this.send(res, 403, { message: 'Resource not accessible by integration' });

    const repoMatch = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (!repoMatch) return this.notFound(res);
    const repository = `${decodeURIComponent(String(repoMatch[1]))}/${decodeURIComponent(String(repoMatch[2]))}`;
    if (!this.repositories.has(repository)) return this.notFound(res);
    const rest = repoMatch[3] ?? '';

    if (rest === '' && method === 'GET') return this.send(res, 200, { full_name: repository, default_branch: 'main', has_issues: true });
    const runsOf = /^\/actions\/workflows\/([^/]+)\/runs$/.exec(rest);
    if (runsOf && method === 'GET') {
      const workflow = decodeURIComponent(String(runsOf[1]));
      const branch = url.searchParams.get('branch');
      const status = url.searchParams.get('status');
      const runs = this.runs
        .filter((r) => r.workflow === workflow && (!branch || r.branch === branch) && (!status || r.run.status === status || r.run.conclusion === status))
        .map((r) => r.run)
        .sort((a, b) => Number(b.id) - Number(a.id));
      return this.page(url, runs, res, (page) => ({ total_count: runs.length, workflow_runs: page }));
    }
    const jobsOf = /^\/actions\/runs\/(\d+)\/jobs$/.exec(rest);
    if (jobsOf && method === 'GET') {
      const run = this.runs.find((r) => r.run.id === Number(jobsOf[1]));
      if (!run) return this.notFound(res);
      return this.page(url, run.jobs, res, (page) => ({ total_count: run.jobs.length, jobs: page }));
    }
    const logOf = /^\/actions\/jobs\/(\d+)\/logs$/.exec(rest);
    if (logOf && method === 'GET') {
      const id = Number(logOf[1]);
      if (!this.runs.some((r) => r.jobs.some((j) => j.id === id))) return this.notFound(res);
      return void res.writeHead(302, { location: `${this.base}/_signed-logs/${id}` }).end();
    }
    if (rest.startsWith('/issues')) return this.handleIssues(repository, rest, method, url, body, res);
    const protection = /^\/branches\/([^/]+)\/protection$/.exec(rest);
    if (protection) {
      const key = `${repository}#${decodeURIComponent(String(protection[1]))}`;
      if (method === 'PUT') {
        const invalid = protectionBodyProblems(JSON.parse(body || '{}') as Record<string, unknown>);
        if (invalid.length > 0) return this.send(res, 422, { message: `Invalid request.\n\n${invalid.join('\n')}`, documentation_url: 'https://docs.github.com/rest/branches/branch-protection#update-branch-protection' });
        this.protections.set(key, JSON.parse(body));
        return this.send(res, 200, { url: `${this.base}${url.pathname}`, ...(JSON.parse(body) as object) });
      }
      if (method === 'GET') {
        const current = this.protections.get(key);
        return current === undefined ? this.send(res, 404, { message: 'Branch not protected' }) : this.send(res, 200, current);
      }
    }
    const statusChecks = /^\/branches\/([^/]+)\/protection\/required_status_checks$/.exec(rest);
    if (statusChecks && method === 'PATCH') {
      const key = `${repository}#${decodeURIComponent(String(statusChecks[1]))}`;
      const current = this.protections.get(key) as { required_status_checks?: unknown } | undefined;
      if (current === undefined) return this.send(res, 404, { message: 'Branch not protected' });
      this.protections.set(key, { ...current, required_status_checks: JSON.parse(body) as unknown });
      return this.send(res, 200, JSON.parse(body));
    }
    if (protection) {
      if (method === 'GET') {
        const current = this.protections.get(`${repository}#${decodeURIComponent(String(protection[1]))}`);
        return current === undefined ? this.send(res, 404, { message: 'Branch not protected' }) : this.send(res, 200, current);
      }
    }
    return this.notFound(res);
  }
}
