import { commandFlags, runAdminCommand } from '../routing/cli-support.ts';
import type { Command } from './command.ts';

const usage = 'npm run hypervisor -- pointers --user USER_ID [--history N] [--json]';

/** Where a user's routes point, what each slot runs, and the latest switches. */
export const pointers: Command = {
  summary: "show a user's route pointers, slot releases and switch history",
  async run(args) {
    const flags = commandFlags(args, { user: { type: 'string' }, history: { type: 'string' } }, usage, ['user']);
    if (typeof flags === 'number') return flags;
    const user = flags.user;
    return runAdminCommand(async (admin) => {
      const routes = await admin.pointers(user);
      const history = await admin.switches(user, flags.history ?? '10');
      const slot = (role: 'live' | 'dev'): string => {
        const s = routes.slots[role];
        return s ? `release ${s.release_id} (${s.state})` : 'no release recorded';
      };
      const lines = [
        `${routes.user_id}: main -> ${routes.main}, dev -> ${routes.dev}${routes.updated_at ? ` (since ${routes.updated_at})` : ' (defaults)'}`,
        `  live slot: ${slot('live')}`,
        `  dev slot:  ${slot('dev')}`,
        ...history.switches.map((s) => `  ${s.at} ${s.action} by ${s.actor}: ${s.from.role} -> ${s.to.role} ${s.outcome}${s.duration_ms === null ? '' : ` in ${s.duration_ms} ms`} (${s.reason})${s.error ? `: ${s.error}` : ''}`),
      ];
      return { summary: lines.join('\n'), json: { ...routes, switches: history.switches } };
    }, flags.json ?? false);
  },
};
