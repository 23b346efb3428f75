import { commandFlags, runAdminCommand } from '../routing/cli-support.ts';
import type { Command } from './command.ts';

const usage = 'npm run hypervisor -- deploy --user USER_ID --release RELEASE_ID [--json]';

/** Starts a release in the user's standby slot and health-gates it; main is not touched. */
export const deploy: Command = {
  summary: "deploy a release to a user's standby (dev) slot, health-gated",
  async run(args) {
    const flags = commandFlags(args, { user: { type: 'string' }, release: { type: 'string' } }, usage, ['user', 'release']);
    if (typeof flags === 'number') return flags;
    const { user, release } = flags;
    return runAdminCommand(async (admin) => {
      const answer = await admin.deploy(user, release);
      return { summary: `${answer.user_id}: release ${answer.release.id} is healthy in the ${answer.role} slot (${answer.duration_ms} ms); promote it with: npm run hypervisor -- promote --user ${answer.user_id}`, json: answer };
    }, flags.json ?? false);
  },
};
