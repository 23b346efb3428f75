import { commandFlags, runAdminCommand } from '../routing/cli-support.ts';
import type { Command } from './command.ts';

const usage = 'npm run hypervisor -- promote --user USER_ID [--reason TEXT] [--json]';

/** Swaps the deployed release onto the main route; it becomes known-good once it serves healthily. */
export const promote: Command = {
  summary: "promote the release deployed to a user's dev slot to main (swap), then mark it known-good",
  async run(args) {
    const flags = commandFlags(args, { user: { type: 'string' }, reason: { type: 'string' } }, usage, ['user']);
    if (typeof flags === 'number') return flags;
    const user = flags.user;
    return runAdminCommand(async (admin) => {
      const answer = await admin.promote(user, flags.reason ?? 'promote from the CLI');
      const known = answer.known_good ? 'known-good' : `not known-good yet (${answer.known_good_error})`;
      return { summary: `${answer.user_id}: main -> ${answer.main} slot, release ${answer.release.id} serving after ${answer.serving_after_ms} ms, ${known}`, json: answer };
    }, flags.json ?? false);
  },
};
