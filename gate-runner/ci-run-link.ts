/**
 * The link to this CI run (where its Allure report, verdict and evidence are uploaded as artifacts),
 * from the variables GitHub Actions sets; undefined outside CI.
 */
export function ciRunLink(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const server = env.GITHUB_SERVER_URL?.trim();
  const repository = env.GITHUB_REPOSITORY?.trim();
  const runId = env.GITHUB_RUN_ID?.trim();
  if (env.GITHUB_ACTIONS !== 'true' || !server || !repository || !runId || !/^\d+$/.test(runId)) return undefined;
  return `${server.replace(/\/+$/, '')}/${repository}/actions/runs/${runId}`;
}
