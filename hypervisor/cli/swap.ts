import { commandFlags, runAdminCommand } from '../routing/cli-support.ts';
import type { Command } from './command.ts';

const usage = 'npm run hypervisor -- swap --user USER_ID [--reason TEXT] [--json]';

/** Exchanges what a user's main and dev routes point to, health-gated (POST /admin/sandboxes/USER/swap). */
export const swap: Command = {
  summary: "swap a user's main and dev routes (health-checked, drained, recorded)",
  async run(args) {
    const flags = commandFlags(args, { user: { type: 'string' }, reason: { type: 'string' } }, usage, ['user']);
    if (typeof flags === 'number') return flags;
    const user = flags.user;
    return runAdminCommand(async (admin) => {
      const answer = await admin.swap(user, flags.reason ?? 'swap from the CLI');
      return { summary: `${answer.user_id}: main -> ${answer.main} slot, dev -> ${answer.dev} slot, serving after ${answer.serving_after_ms} ms`, json: answer };
    }, flags.json ?? false);
  },
};
