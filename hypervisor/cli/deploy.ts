import { cliActor, parseFlags, runAdminCommand, usageFailure, UsageError } from '../routing/cli-support.ts';
import type { deployView } from '../routing/views.ts';
import type { Command } from './command.ts';

const usage = 'npm run hypervisor -- deploy --user USER_ID --release RELEASE_ID [--json]';

/** Starts a release in the user's standby slot and health-gates it; main is not touched. */
export const deploy: Command = {
  summary: "deploy a release to a user's standby (dev) slot, health-gated",
  async run(args) {
    let flags;
    try {
      flags = parseFlags(args, { user: { type: 'string' }, release: { type: 'string' } }, usage);
      if (!flags.user || !flags.release) throw new UsageError(`--user USER_ID and --release RELEASE_ID are required\nusage: ${usage}`);
    } catch (error) {
      return usageFailure(error);
    }
    const { user, release } = flags;
    return runAdminCommand(async (call) => {
      const answer = (await call('POST', `/admin/sandboxes/${encodeURIComponent(user)}/deploy`, { actor: cliActor(), release_id: release })) as ReturnType<typeof deployView>;
      return { summary: `${answer.user_id}: release ${answer.release.id} is healthy in the ${answer.role} slot (${answer.duration_ms} ms); promote it with: npm run hypervisor -- promote --user ${answer.user_id}`, json: answer };
    }, flags.json ?? false);
  },
};
