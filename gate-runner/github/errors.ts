/** Every failure of the GitHub client: the message says what was asked, what GitHub said, and what to do. */
export class GitHubError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GitHubError';
  }
}

export class MissingGitHubTokenError extends GitHubError {
  constructor(where: string) {
    super(`no GitHub token: ${where}. Create a token that can read Actions (and administer the repository to promote a required check) and export it.`);
    this.name = 'MissingGitHubTokenError';
  }
}

export class RepositoryNotFoundError extends GitHubError {
  constructor(repository: string, url: string) {
    super(`GitHub has no repository ${repository} visible to this token (GET ${url} -> 404): check the repository name (owner/name) in the target description or GATE_GITHUB_REPOSITORY, and that the token may read it.`);
    this.name = 'RepositoryNotFoundError';
  }
}

export class RateLimitedError extends GitHubError {
  readonly resetAt: Date | undefined;
  constructor(url: string, status: number, resetAt: Date | undefined) {
    const when = resetAt ? `it resets at ${resetAt.toISOString()}` : 'GitHub gave no reset time; wait a minute';
    super(`GitHub's API rate limit is exhausted (${url} -> ${status}): ${when}. Run again after that, or use a token with a higher limit.`);
    this.name = 'RateLimitedError';
    this.resetAt = resetAt;
  }
}

export class RunInProgressError extends GitHubError {
  constructor(runUrl: string, status: string) {
    super(`the workflow run ${runUrl} is still ${status}: its jobs' durations and logs are final only once it completes. Wait for it, or use the previous completed run.`);
    this.name = 'RunInProgressError';
  }
}

export class ExpiredLogLinkError extends GitHubError {
  constructor(jobUrl: string, status: number) {
    super(`the log of job ${jobUrl} could not be downloaded: its link answered ${status} (GitHub's log links expire within minutes, and logs are deleted after the retention period). Ask for the log again; if it is gone, re-run the job.`);
    this.name = 'ExpiredLogLinkError';
  }
}
