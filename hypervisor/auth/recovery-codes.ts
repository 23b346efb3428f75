import { argon2, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Database } from '../store/database.ts';

const argon2id = promisify(argon2);

export const recoveryCodeCount = 10;
/** 32 symbols without look-alikes (no 0/o, 1/l): 20 of them carry 100 bits. */
const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
const shape = /^[a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{5}$/;

/** OWASP's argon2id baseline (19 MiB, 2 passes): about 50 ms here, in libuv's pool, off the event loop. */
const hashCode = (code: string, salt: Buffer): Promise<Buffer> =>
  argon2id('argon2id', { message: code, nonce: salt, parallelism: 1, tagLength: 32, memory: 19456, passes: 2 });

export function generateRecoveryCode(): string {
  const groups = Array.from({ length: 4 }, () => Array.from({ length: 5 }, () => alphabet[randomInt(alphabet.length)]).join(''));
  return groups.join('-');
}

/** Accepts what people paste: any case, surrounding spaces, with or without the dashes. */
export function normalizeRecoveryCode(input: string): string | null {
  const compact = input.toLowerCase().replace(/[\s-]/g, '');
  if (!/^[a-z0-9]{20}$/.test(compact)) return null;
  const code = compact.match(/.{5}/g)?.join('-') ?? '';
  return shape.test(code) ? code : null;
}

export interface RecoveryCodes {
  /**
   * Generates and hashes a fresh set. `codes` is the only time they exist in clear; `store` (sync, so
   * it fits in the caller's transaction) replaces the user's unused codes with this set.
   */
  prepare(): Promise<{ codes: string[]; store(userId: string): void }>;
  /** Marks the code used if it is one of the user's unused codes; a null user still costs one hash. */
  redeem(userId: string | null, input: string): Promise<{ redeemed: boolean; remaining: number }>;
  remaining(userId: string): number;
}

export function createRecoveryCodes(db: Database): RecoveryCodes {
  const unused = db.prepare('SELECT id, salt, hash FROM auth_recovery_codes WHERE user_id = ? AND used_at IS NULL');
  const countUnused = db.prepare('SELECT count(*) AS n FROM auth_recovery_codes WHERE user_id = ? AND used_at IS NULL');
  const dropUnused = db.prepare('DELETE FROM auth_recovery_codes WHERE user_id = ? AND used_at IS NULL');
  const insert = db.prepare('INSERT INTO auth_recovery_codes (user_id, salt, hash, created_at) VALUES (?, ?, ?, ?)');
  const markUsed = db.prepare('UPDATE auth_recovery_codes SET used_at = ? WHERE id = ? AND used_at IS NULL');
  const decoySalt = randomBytes(16);

  const remaining = (userId: string): number => Number(countUnused.get(userId)?.n ?? 0);

  return {
    async prepare() {
      const codes = Array.from({ length: recoveryCodeCount }, generateRecoveryCode);
      // One salt per set: a redeem attempt then costs one hash, not ten, and sets never share a salt.
      const salt = randomBytes(16);
      const hashes = await Promise.all(codes.map((code) => hashCode(code, salt)));
      return {
        codes,
        store(userId) {
          const now = Date.now();
          dropUnused.run(userId);
          for (const hash of hashes) insert.run(userId, salt, hash, now);
        },
      };
    },
    async redeem(userId, input) {
      const code = normalizeRecoveryCode(input) ?? input;
      const rows = userId ? unused.all(userId) : [];
      const salts = new Map<string, Buffer>();
      for (const row of rows) {
        const salt = Buffer.from(row.salt as Uint8Array);
        salts.set(salt.toString('hex'), salt);
      }
      if (salts.size === 0) salts.set('decoy', decoySalt);
      const candidates = new Map<string, Buffer>();
      for (const [key, salt] of salts) candidates.set(key, await hashCode(code, salt));
      let matchId: number | null = null;
      for (const row of rows) {
        const candidate = candidates.get(Buffer.from(row.salt as Uint8Array).toString('hex'));
        const stored = Buffer.from(row.hash as Uint8Array);
        if (candidate && candidate.length === stored.length && timingSafeEqual(candidate, stored)) matchId = Number(row.id);
      }
      if (matchId === null || !userId) return { redeemed: false, remaining: userId ? remaining(userId) : 0 };
      // The guarded update makes two concurrent uses of one code succeed at most once.
      const redeemed = Number(markUsed.run(Date.now(), matchId).changes) === 1;
      return { redeemed, remaining: remaining(userId) };
    },
    remaining,
  };
}
