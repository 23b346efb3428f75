import { request, type Dispatcher } from 'undici';
import type { GitHubConnection } from './connection.ts';
import { ExpiredLogLinkError, GitHubError, RateLimitedError, RepositoryNotFoundError } from './errors.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface GitHubResponse<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  data: T;
}

const timeouts = { headersTimeout: 30_000, bodyTimeout: 60_000 };

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The URL of Link: <…>; rel="next", GitHub's pagination. */
export function nextPageUrl(link: string | undefined): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="next"/.exec(part);
    if (match) return match[1];
  }
  return undefined;
}

/**
 * The one HTTP client for GitHub's REST API in this project (issues, Actions runs and logs, branch
 * protection). Paths are relative to the API root; `{owner}`/`{repo}` come from the connection.
 */
export class GitHubClient {
  readonly connection: GitHubConnection;

  constructor(connection: GitHubConnection) {
    this.connection = connection;
  }

  get repository(): string {
    return `${this.connection.owner}/${this.connection.repo}`;
  }

  /** `/repos/{owner}/{repo}` + rest, with both parts escaped. */
  repoPath(rest: string): string {
    return `/repos/${encodeURIComponent(this.connection.owner)}/${encodeURIComponent(this.connection.repo)}${rest}`;
  }

  private url(pathOrUrl: string): string {
    return /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${this.connection.apiUrl}${pathOrUrl}`;
  }

  private headers(): Record<string, string> {
    return {
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${this.connection.token}`,
      'user-agent': 'choiros-gates',
      'x-github-api-version': '2022-11-28',
    };
  }

  private async send(method: Method, url: string, body: unknown): Promise<Dispatcher.ResponseData> {
    // The token goes to the API's own origin only: a pagination link (or a path) pointing anywhere
    // else is refused rather than followed with the token attached.
    if (new URL(url).origin !== new URL(this.connection.apiUrl).origin) {
      throw new GitHubError(`refusing to send the GitHub token to ${url}: it is not on the API's origin (${this.connection.apiUrl}). A Link header or path pointed elsewhere.`);
    }
    const headers = this.headers();
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await request(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), ...timeouts });
    } catch (error) {
      throw new GitHubError(`${method} ${url} failed: ${(error as Error).message}. Check the API URL (${this.connection.apiUrl}) and the network.`, { cause: error });
    }
  }

  /** One request; a non-2xx answer becomes the matching GitHubError. */
  async request<T>(method: Method, pathOrUrl: string, body?: unknown): Promise<GitHubResponse<T>> {
    const url = this.url(pathOrUrl);
    const response = await this.send(method, url, body);
    const text = await response.body.text();
    if (response.statusCode >= 200 && response.statusCode < 300) {
      const data = (text ? JSON.parse(text) : undefined) as T;
      return { status: response.statusCode, headers: response.headers, data };
    }
    if (response.statusCode === 404 && (await this.repositoryMissing(url))) throw new RepositoryNotFoundError(this.repository, this.url(this.repoPath('')));
    throw this.failure(method, url, response.statusCode, response.headers, text);
  }

  /** A 404 may mean the repository itself is missing (or hidden from this token): ask once. */
  private async repositoryMissing(url: string): Promise<boolean> {
    const repoUrl = this.url(this.repoPath(''));
    if (url === repoUrl) return true;
    if (!url.startsWith(`${repoUrl}/`)) return false;
    const response = await this.send('GET', repoUrl, undefined);
    await response.body.dump();
    return response.statusCode === 404;
  }

  private failure(method: Method, url: string, status: number, headers: Record<string, string | string[] | undefined>, text: string): GitHubError {
    const remaining = header(headers, 'x-ratelimit-remaining');
    if ((status === 403 || status === 429) && (remaining === '0' || header(headers, 'retry-after') !== undefined)) {
      const reset = Number(header(headers, 'x-ratelimit-reset'));
      const retryAfter = Number(header(headers, 'retry-after'));
      const resetAt = Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000) : Number.isFinite(retryAfter) && retryAfter > 0 ? new Date(Date.now() + retryAfter * 1000) : undefined;
      return new RateLimitedError(`${method} ${url}`, status, resetAt);
    }
    if (status === 401) return new GitHubError(`GitHub refused the token (${method} ${url} -> 401): ${text.slice(0, 300)}. The token is invalid or expired: create a new one.`);
    return new GitHubError(`${method} ${url} -> ${status}: ${text.slice(0, 500)}`);
  }

  /** Every item of a paginated list (`key` names the array in object-shaped pages, e.g. workflow_runs). */
  async paginate<T>(pathOrUrl: string, key?: string, limit = 10_000): Promise<T[]> {
    const items: T[] = [];
    let next: string | undefined = this.url(pathOrUrl);
    while (next && items.length < limit) {
      const page: GitHubResponse<unknown> = await this.request<unknown>('GET', next);
      const list = key === undefined ? page.data : (page.data as Record<string, unknown>)[key];
      if (!Array.isArray(list)) throw new GitHubError(`GET ${next} answered without ${key === undefined ? 'a JSON array' : `an array "${key}"`}: is ${this.connection.apiUrl} GitHub's REST API?`);
      items.push(...(list as T[]));
      next = nextPageUrl(header(page.headers, 'link'));
    }
    return items.slice(0, limit);
  }

  /**
   * A job's plain-text log: GitHub answers 302 to a short-lived download URL, fetched without the
   * token (it is signed); a dead link (403/404/410) is an ExpiredLogLinkError.
   */
  async jobLog(jobId: number, jobUrl: string): Promise<string> {
    const url = this.url(this.repoPath(`/actions/jobs/${jobId}/logs`));
    // undici's request does not follow redirects: the 302 and its Location are seen here.
    const first = await request(url, { method: 'GET', headers: this.headers(), ...timeouts });
    if (first.statusCode === 200) return first.body.text();
    const firstText = await first.body.text();
    if (first.statusCode !== 302 && first.statusCode !== 301) {
      if (first.statusCode === 410) throw new ExpiredLogLinkError(jobUrl, first.statusCode);
      if (first.statusCode === 404 && (await this.repositoryMissing(url))) throw new RepositoryNotFoundError(this.repository, this.url(this.repoPath('')));
      if (first.statusCode === 404) throw new ExpiredLogLinkError(jobUrl, first.statusCode);
      throw this.failure('GET', url, first.statusCode, first.headers, firstText);
    }
    const location = header(first.headers, 'location');
    if (!location) throw new GitHubError(`GET ${url} answered ${first.statusCode} without a Location for the log`);
    const log = await request(new URL(location, url).toString(), { method: 'GET', headers: { 'user-agent': 'choiros-gates' }, ...timeouts });
    const text = await log.body.text();
    if (log.statusCode === 200) return text;
    if ([401, 403, 404, 410].includes(log.statusCode)) throw new ExpiredLogLinkError(jobUrl, log.statusCode);
    throw new GitHubError(`downloading the log of job ${jobUrl} -> ${log.statusCode}: ${text.slice(0, 300)}`);
  }

  /** Confirms the repository exists for this token: a clear error instead of a bare 404 later. */
  async checkRepository(): Promise<void> {
    await this.request('GET', this.repoPath(''));
  }
}
