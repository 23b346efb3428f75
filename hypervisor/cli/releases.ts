import { parseFlags, runAdminCommand, usageFailure, UsageError } from '../routing/cli-support.ts';
import type { AdminRelease } from '../admin-client/admin-answers.ts';
import type { Command } from './command.ts';

const usage = [
  'npm run hypervisor -- releases [list] [--json]',
  'npm run hypervisor -- releases create --runtime podman|process [--image REF] [--config NAME=VALUE ...] [--note TEXT] [--json]',
  'npm run hypervisor -- releases known-good --release RELEASE_ID [--json]',
  'npm run hypervisor -- releases prune [--json]',
].join('\n       ');

const describe = (release: AdminRelease): string =>
  `${String(release.id).padStart(4)}  ${release.runtime.padEnd(7)} ${release.image_ref.padEnd(40)} ${release.status.padEnd(9)} ${release.known_good ? `known-good${release.retained ? ' (retained)' : ''}` : ''}`.trimEnd();

function configFrom(pairs: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new UsageError(`--config takes NAME=VALUE, got ${JSON.stringify(pair)}\nusage: ${usage}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

/** The release catalogue: list, create, mark known-good, prune unretained images. */
export const releases: Command = {
  summary: 'list, create, mark known-good or prune releases (sandbox image + config + runtime)',
  async run(args) {
    const [action = 'list', ...rest] = args[0]?.startsWith('--') ? ['list', ...args] : args;
    let flags;
    let config: Record<string, string>;
    try {
      flags = parseFlags(rest, { runtime: { type: 'string' }, image: { type: 'string' }, config: { type: 'string', multiple: true }, note: { type: 'string' }, release: { type: 'string' } }, usage);
      if (!['list', 'create', 'known-good', 'prune'].includes(action)) throw new UsageError(`unknown releases action ${JSON.stringify(action)}\nusage: ${usage}`);
      if (action === 'create' && !flags.runtime) throw new UsageError(`--runtime podman|process is required\nusage: ${usage}`);
      if (action === 'known-good' && !flags.release) throw new UsageError(`--release RELEASE_ID is required\nusage: ${usage}`);
      // Inside the try: a malformed --config is a usage error (exit 2), not a crash.
      config = action === 'create' ? configFrom(flags.config ?? []) : {};
    } catch (error) {
      return usageFailure(error);
    }
    return runAdminCommand(async (admin) => {
      if (action === 'create') {
        const body = { runtime: flags.runtime, config, ...(flags.image ? { image: flags.image } : {}), ...(flags.note ? { note: flags.note } : {}) };
        const answer = await admin.createRelease(body);
        return { summary: `created release ${answer.id}: ${answer.runtime} ${answer.image_ref} (image ${answer.image.slice(0, 12) || '-'}, revision ${answer.revision ?? 'unknown'})`, json: answer };
      }
      if (action === 'known-good') {
        const answer = await admin.markKnownGood(flags.release ?? '');
        return { summary: `release ${answer.id} is known-good since ${answer.known_good_at}`, json: answer };
      }
      if (action === 'prune') {
        const answer = await admin.pruneReleases();
        const failed = answer.failed.map((f) => `\n  release ${f.release}: ${f.error}`).join('');
        return { summary: `pruned ${answer.removed.length} release image(s), kept ${answer.kept.length}${failed ? `, failed:${failed}` : ''}`, json: answer };
      }
      const answer = await admin.releases();
      return { summary: answer.releases.length ? answer.releases.map(describe).join('\n') : 'no releases yet', json: answer };
    }, flags.json ?? false);
  },
};
