import type { TargetDescription } from '../target-description.ts';
import { resolveSecret } from '../secret-ref.ts';
import { GitHubError, MissingGitHubTokenError } from './errors.ts';

/** Which repository, on which API, with which token: from a target's `github` section or the environment. */
export interface GitHubConnection {
  apiUrl: string;
  owner: string;
  repo: string;
  token: string;
  /** The workflow file whose runs prove Phase 2, and the branch they ran on. */
  workflow: string;
  branch: string;
}

const repositoryPattern = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/;

export function splitRepository(repository: string, source: string): { owner: string; repo: string } {
  const match = repositoryPattern.exec(repository.trim());
  if (!match) throw new GitHubError(`${source}="${repository}" is not "owner/name": set it to a GitHub repository, e.g. choiros/gates.`);
  return { owner: String(match[1]), repo: String(match[2]) };
}

/** From a target description's `github` section; the token is read now (secret-ref.ts names where). */
export function connectionFromTarget(target: TargetDescription, env: NodeJS.ProcessEnv = process.env): GitHubConnection | undefined {
  const github = target.github;
  if (!github) return undefined;
  let token: string;
  try {
    token = resolveSecret(github.token, env);
  } catch (error) {
    throw new MissingGitHubTokenError((error as Error).message);
  }
  return { apiUrl: github.apiUrl.replace(/\/+$/, ''), ...splitRepository(github.repository, `${target.file ?? target.name}: github.repository`), token, workflow: github.workflow, branch: github.branch };
}

/** Ad-hoc use: GATE_GITHUB_REPOSITORY (owner/name) and GITHUB_TOKEN, GITHUB_API_URL optional. */
export function connectionFromEnv(env: NodeJS.ProcessEnv = process.env): GitHubConnection | undefined {
  const repository = env.GATE_GITHUB_REPOSITORY?.trim();
  if (!repository) return undefined;
  const token = env.GITHUB_TOKEN?.trim();
  if (!token) throw new MissingGitHubTokenError(`GATE_GITHUB_REPOSITORY=${repository} is set but GITHUB_TOKEN is not`);
  return {
    apiUrl: (env.GITHUB_API_URL?.trim() || 'https://api.github.com').replace(/\/+$/, ''),
    ...splitRepository(repository, 'GATE_GITHUB_REPOSITORY'),
    token,
    workflow: env.GATE_GITHUB_WORKFLOW?.trim() || 'flakes.yml',
    branch: env.GATE_GITHUB_BRANCH?.trim() || 'main',
  };
}

/** The target's section when it has one, else the ad-hoc environment, else undefined (a local run). */
export function githubConnection(target: TargetDescription, env: NodeJS.ProcessEnv = process.env): GitHubConnection | undefined {
  return connectionFromTarget(target, env) ?? connectionFromEnv(env);
}
