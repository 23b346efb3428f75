import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordedRequest } from '../recording-github.ts';

export interface StandInComment {
  id: number;
  body: string;
  html_url: string;
}

export interface StandInIssue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  state_reason: string | null;
  labels: { name: string }[];
  html_url: string;
  comments: StandInComment[];
}

export interface GitHubStandIn {
  apiUrl: string;
  owner: string;
  repo: string;
  token: string;
  issues: StandInIssue[];
  requests: RecordedRequest[];
  /** Adds an issue as if someone had opened it on GitHub. */
  seed(issue: Pick<StandInIssue, 'title' | 'body'> & { labels: string[]; state?: 'open' | 'closed' }): StandInIssue;
  close(): Promise<void>;
}

/**
 * A local stand-in for api.github.com on 127.0.0.1 that keeps issues and comments in memory and
 * answers with GitHub's REST shapes: GET issues (label filter, state, pagination with a Link header),
 * POST issues, POST comments, PATCH an issue; 401 without the token. `perPage` caps page sizes so
 * a test sees pagination with a handful of issues.
 */
export async function startGitHubStandIn({ owner = 'choiros', repo = 'gates', token = 'ghs_stand_in', perPage = 100 } = {}): Promise<GitHubStandIn> {
  const issues: StandInIssue[] = [];
  const requests: RecordedRequest[] = [];
  let nextId = 1;
  let apiUrl = '';
  const issueUrl = (n: number): string => `https://github.com/${owner}/${repo}/issues/${n}`;
  const add = (fields: Pick<StandInIssue, 'title' | 'body'> & { labels: string[]; state?: 'open' | 'closed' }): StandInIssue => {
    const number = issues.length + 1;
    const issue: StandInIssue = { number, title: fields.title, body: fields.body, state: fields.state ?? 'open', state_reason: null, labels: fields.labels.map((name) => ({ name })), html_url: issueUrl(number), comments: [] };
    issues.push(issue);
    return issue;
  };
  const view = (issue: StandInIssue): object => ({ number: issue.number, title: issue.title, body: issue.body, state: issue.state, state_reason: issue.state_reason, labels: issue.labels, html_url: issue.html_url, comments: issue.comments.length });

  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body: raw });
      const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Bearer ${token}`) return send(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
      const url = new URL(req.url ?? '/', apiUrl);
      if (url.pathname === `/repos/${owner}/${repo}` && req.method === 'GET') return send(200, { full_name: `${owner}/${repo}`, has_issues: true });
      const base = `/repos/${owner}/${repo}/issues`;
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      if (url.pathname === base && req.method === 'GET') {
        const state = url.searchParams.get('state') ?? 'open';
        const wanted = (url.searchParams.get('labels') ?? '').split(',').filter(Boolean);
        const size = Math.min(perPage, Number(url.searchParams.get('per_page') ?? 30));
        const page = Number(url.searchParams.get('page') ?? 1);
        const matching = issues.filter((issue) => (state === 'all' || issue.state === state) && wanted.every((label) => issue.labels.some((l) => l.name === label)));
        const slice = matching.slice((page - 1) * size, page * size);
        const headers: Record<string, string> = {};
        if (page * size < matching.length) {
          const next = new URL(url);
          next.searchParams.set('page', String(page + 1));
          headers.link = `<${next.toString()}>; rel="next"`;
        }
        return send(200, slice.map(view), headers);
      }
      if (url.pathname === base && req.method === 'POST') {
        if (typeof body.title !== 'string' || !body.title) return send(422, { message: 'Validation Failed', errors: [{ resource: 'Issue', field: 'title', code: 'missing_field' }] });
        return send(201, view(add({ title: body.title, body: String(body.body ?? ''), labels: Array.isArray(body.labels) ? body.labels.map(String) : [] })));
      }
      const one = new RegExp(`^${base}/(\\d+)(/comments)?$`).exec(url.pathname);
      const issue = one ? issues.find((i) => i.number === Number(one[1])) : undefined;
      if (one && !issue) return send(404, { message: 'Not Found' });
      if (issue && one?.[2] && req.method === 'POST') {
        const comment: StandInComment = { id: nextId++, body: String(body.body ?? ''), html_url: `${issue.html_url}#issuecomment-${nextId}` };
        issue.comments.push(comment);
        return send(201, comment);
      }
      if (issue && !one?.[2] && req.method === 'PATCH') {
        if (body.state === 'closed' || body.state === 'open') issue.state = body.state;
        if (typeof body.state_reason === 'string') issue.state_reason = body.state_reason;
        return send(200, view(issue));
      }
      send(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { apiUrl, owner, repo, token, issues, requests, seed: add, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
