import { afterEach } from 'vitest';
import { GitHubClient } from '../client.ts';
import { LocalGitHub } from '../local-github.ts';

/**
 * A fresh local GitHub stand-in for each test that asks, holding choiros/gates, with a client for it;
 * stopped after the test. Call at the top of a test file (it registers the afterEach).
 */
export function localGitHubPerTest(): () => Promise<{ github: LocalGitHub; client: GitHubClient }> {
  let server: LocalGitHub | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });
  return async () => {
    server = await new LocalGitHub().start();
    server.repositories.add('choiros/gates');
    return { github: server, client: new GitHubClient(server.connection('choiros/gates')) };
  };
}
