import type { SandboxView } from '../http/admin-sandboxes.ts';
import type { UserDeletion } from '../http/user-deletion.ts';
import type { UserListing } from '../http/admin-users.ts';
import type { deployView, pointersView, promoteView, releaseView, rollbackView, switchResultView, switchView } from '../routing/views.ts';

/*
 * The admin API's answers, typed by the views the hypervisor renders them with (type-only imports),
 * so a client that reads a field the server stopped sending fails to compile.
 */

export type AdminMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Any answer of the admin API: its status and JSON body. */
export interface AdminAnswer<T = unknown> {
  status: number;
  body: T;
}

/** One admin call with the bearer token in place, answering any status (AdminClient.answer, bound). */
export type AdminCaller = <T = unknown>(method: AdminMethod, route: string, body?: unknown) => Promise<AdminAnswer<T>>;

export type AdminSandbox = SandboxView;
export type AdminRelease = ReturnType<typeof releaseView>;
export type RouteSwitch = ReturnType<typeof switchResultView>;
export type PromoteAnswer = ReturnType<typeof promoteView>;
export type RollbackAnswer = ReturnType<typeof rollbackView>;
export type DeployAnswer = ReturnType<typeof deployView>;
export type Pointers = ReturnType<typeof pointersView>;
export type SwitchEntry = ReturnType<typeof switchView>;
export type RollbackAllAnswer = { results: Array<({ ok: true } & RollbackAnswer) | { ok: false; user_id: string; error: string }> };
export type PruneAnswer = { removed: unknown[]; kept: unknown[]; failed: Array<{ release: number; error: string }> };
export type { UserDeletion, UserListing };

/** POST /admin/releases: what a new release pins (the hypervisor names a missing or wrong runtime). */
/** The optional body of POST /admin/sandboxes/:user/:role/start (http/admin-sandboxes.ts specFrom). */
export interface SandboxStartSpec {
  runtime?: string;
  image?: string;
  config?: Record<string, string>;
}

export interface NewRelease {
  runtime: string | undefined;
  image?: string;
  config?: Record<string, string>;
  note?: string;
}

/** The per-user results a POST /admin/rollback answer carries, a 422 refusal's body included; undefined when the body has none. */
export function rollbackAllResultsOf(body: unknown): RollbackAllAnswer['results'] | undefined {
  return typeof body === 'object' && body !== null && 'results' in body && Array.isArray(body.results) ? (body.results as RollbackAllAnswer['results']) : undefined;
}
