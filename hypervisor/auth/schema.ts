import { migrate, type Database } from '../store/database.ts';

/**
 * The auth module's tables. Secrets never land in clear: session ids are stored as SHA-256 digests,
 * recovery codes as argon2id hashes. Times are epoch milliseconds.
 */
const steps = [
  `CREATE TABLE auth_users (
     id TEXT PRIMARY KEY,
     username TEXT NOT NULL UNIQUE COLLATE NOCASE,
     display_name TEXT NOT NULL,
     webauthn_user_id TEXT NOT NULL UNIQUE,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE auth_passkeys (
     credential_id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES auth_users(id) ON DELETE CASCADE,
     public_key BLOB NOT NULL,
     counter INTEGER NOT NULL,
     transports TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     last_used_at INTEGER
   );
   CREATE INDEX auth_passkeys_user ON auth_passkeys(user_id);
   CREATE TABLE auth_recovery_codes (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     user_id TEXT NOT NULL REFERENCES auth_users(id) ON DELETE CASCADE,
     salt BLOB NOT NULL,
     hash BLOB NOT NULL,
     created_at INTEGER NOT NULL,
     used_at INTEGER
   );
   CREATE INDEX auth_recovery_codes_user ON auth_recovery_codes(user_id);
   CREATE TABLE auth_sessions (
     id_hash TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES auth_users(id) ON DELETE CASCADE,
     kind TEXT NOT NULL CHECK (kind IN ('user', 'recovery')),
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX auth_sessions_expiry ON auth_sessions(expires_at);
   CREATE TABLE auth_challenges (
     challenge TEXT PRIMARY KEY,
     purpose TEXT NOT NULL CHECK (purpose IN ('register', 'login')),
     payload TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE TABLE auth_audit (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at INTEGER NOT NULL,
     event TEXT NOT NULL,
     user_id TEXT,
     username TEXT,
     client TEXT,
     detail TEXT NOT NULL
   );
   CREATE TABLE auth_failures (
     scope TEXT NOT NULL,
     subject TEXT NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE INDEX auth_failures_subject ON auth_failures(scope, subject, at);`,
];

export function migrateAuth(db: Database): void {
  migrate(db, 'auth', steps);
}
