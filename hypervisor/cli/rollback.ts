import { commandFlags, runAdminCommand } from '../routing/cli-support.ts';
import { rollbackAllResultsOf, type RollbackAllAnswer, type RollbackAnswer } from '../admin-client/admin-answers.ts';
import { AdminCallError } from '../admin-client/admin-call-error.ts';
import type { Command } from './command.ts';


const usage = 'npm run hypervisor -- rollback (--user USER_ID | --all) [--release RELEASE_ID] [--reason TEXT] [--json]';

const line = (answer: RollbackAnswer): string =>
  `${answer.user_id}: main -> ${answer.main} slot, release ${answer.release.id} (${answer.mode}), serving after ${answer.serving_after_ms} ms${answer.drained ? '' : ' (old target did not drain in time)'}`;

const linesOf = (results: RollbackAllAnswer['results']): string[] =>
  results.map((result) => (result.ok ? `rolled back ${line(result)}` : `FAILED ${result.user_id}: ${result.error}`));

/**
 * Rolls a user's main route (or every user's) back to the previous known-good release through the
 * admin API (HYPERVISOR_URL, HYPERVISOR_ADMIN_TOKEN or HYPERVISOR_ADMIN_TOKEN_FILE).
 */
export const rollback: Command = {
  summary: 'roll a user (--user X) or every user (--all) back to the previous known-good release',
  async run(args) {
    const flags = commandFlags(args, { user: { type: 'string' }, all: { type: 'boolean' }, release: { type: 'string' }, reason: { type: 'string' } }, usage, [], (f) => (Boolean(f.user) === Boolean(f.all) ? 'give exactly one of --user USER_ID or --all' : undefined));
    if (typeof flags === 'number') return flags;
    const reason = flags.reason ?? 'rollback from the CLI';
    return runAdminCommand(async (admin) => {
      if (flags.user) {
        const answer = await admin.rollback(flags.user, reason, flags.release);
        return { summary: `rolled back ${line(answer)}`, json: answer };
      }
      const answer = await admin.rollbackAll(reason, flags.release).catch((error: unknown) => {
        // 422: some user could not be rolled back. The operator still needs every user's line (who
        // rolled back, who FAILED and why): on stderr with exit 1 like any refusal, and with --json
        // the answer itself on stdout.
        const results = error instanceof AdminCallError && error.status === 422 ? rollbackAllResultsOf(error.body) : undefined;
        if (results) return { partial: true as const, results, body: (error as AdminCallError).body };
        throw error;
      });
      if ('partial' in answer) return { summary: `POST /admin/rollback answered 422: not every user rolled back\n${linesOf(answer.results).join('\n')}`, json: answer.body, failed: true };
      const lines = linesOf(answer.results);
      return { summary: lines.length ? lines.join('\n') : 'no users to roll back', json: answer };
    }, flags.json ?? false);
  },
};
