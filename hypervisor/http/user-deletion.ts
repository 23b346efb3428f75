import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Audit } from '../auth/audit.ts';
import type { RoutePointers } from '../routing/route-pointers.ts';
import { sandboxDataDir } from '../sandboxes/data-dir.ts';
import { roles } from '../domain/role.ts';
import type { SandboxKey } from '../domain/sandbox.ts';
import type { Database } from '../store/database.ts';

/** What deleting a user touches; each part is the one owner of that state. */
export interface UserDeletionDeps {
  db: Database;
  dataRoot: string;
  /** Ends the user's sessions, cached ones included, so no request of theirs starts a sandbox again. */
  endSessionsOf(userId: string): number;
  removeSandbox(key: SandboxKey): Promise<boolean>;
  pointers: Pick<RoutePointers, 'forget'>;
  audit: Audit;
}

/** What was removed, as the admin API answers it and the audit records it. */
export interface UserDeletion {
  user_id: string;
  username: string | null;
  sessions_ended: number;
  sandboxes_removed: string[];
  passkeys_removed: number;
  recovery_codes_removed: number;
  switches_removed: number;
  data_removed: boolean;
}

const count = (db: Database, sql: string, userId: string): number => Number(db.prepare(sql).get(userId)?.n ?? 0);

const exists = (dir: string): Promise<boolean> => stat(dir).then(() => true, () => false);

/**
 * Deletes a user and everything of theirs, in an order that leaves nothing behind if it stops
 * midway and is run again: sessions first (no request can start a sandbox afterwards), then the
 * sandboxes, routing state, the account (passkeys and recovery codes go with it), the data
 * directory, and last the audit entry. Undefined when there was no such user and nothing of theirs.
 */
export async function deleteUser(deps: UserDeletionDeps, userId: string, actor: { client: string }): Promise<UserDeletion | undefined> {
  const { db } = deps;
  const account = db.prepare('SELECT username FROM auth_users WHERE id = ?').get(userId);
  const userDir = path.dirname(sandboxDataDir(deps.dataRoot, { userId, role: 'live' }));
  const passkeys = account ? count(db, 'SELECT count(*) AS n FROM auth_passkeys WHERE user_id = ?', userId) : 0;
  const recoveryCodes = account ? count(db, 'SELECT count(*) AS n FROM auth_recovery_codes WHERE user_id = ?', userId) : 0;

  const sessionsEnded = deps.endSessionsOf(userId);
  const sandboxesRemoved: string[] = [];
  for (const role of roles) if (await deps.removeSandbox({ userId, role })) sandboxesRemoved.push(role);
  deps.pointers.forget(userId);
  db.prepare('DELETE FROM slot_releases WHERE user_id = ?').run(userId);
  const switchesRemoved = Number(db.prepare('DELETE FROM switches WHERE user_id = ?').run(userId).changes);
  db.prepare('DELETE FROM auth_users WHERE id = ?').run(userId);
  const dataRemoved = await exists(userDir);
  await rm(userDir, { recursive: true, force: true });

  if (!account && !sessionsEnded && !sandboxesRemoved.length && !switchesRemoved && !dataRemoved) return undefined;
  const deletion: UserDeletion = {
    user_id: userId,
    username: account ? String(account.username) : null,
    sessions_ended: sessionsEnded,
    sandboxes_removed: sandboxesRemoved,
    passkeys_removed: passkeys,
    recovery_codes_removed: recoveryCodes,
    switches_removed: switchesRemoved,
    data_removed: dataRemoved,
  };
  deps.audit.record({
    event: 'user_deleted',
    userId,
    username: deletion.username,
    client: actor.client,
    detail: {
      actor: 'admin',
      sessions_ended: sessionsEnded,
      sandboxes_removed: sandboxesRemoved.join(',') || null,
      passkeys_removed: passkeys,
      recovery_codes_removed: recoveryCodes,
      switches_removed: switchesRemoved,
      data_removed: dataRemoved,
    },
  });
  return deletion;
}
