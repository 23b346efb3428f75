import { request } from 'undici';
import type { Role } from '../domain/role.ts';
import { AdminCallError } from './admin-call-error.ts';
import type {
  AdminAnswer,
  AdminMethod,
  AdminRelease,
  AdminSandbox,
  DeployAnswer,
  NewRelease,
  Pointers,
  PromoteAnswer,
  PruneAnswer,
  RollbackAllAnswer,
  RollbackAnswer,
  RouteSwitch,
  SandboxStartSpec,
  SwitchEntry,
  UserDeletion,
  UserListing,
} from './admin-answers.ts';
import type { AdminEndpoint } from './admin-endpoint.ts';

export interface AdminClientOptions {
  /** Who acts, recorded in the switch history as admin:<actor> (the gate, cli:<login>); the hypervisor's default when absent. */
  actor?: string;
  /** How long one call may wait for headers and for the body; a switch health-gates, so minutes. */
  timeoutMs?: number;
}

const path = (value: string): string => encodeURIComponent(value);

/**
 * The hypervisor's admin API (Bearer token) for every caller: the CLI, the gate suites and their
 * fixtures, the gate runner's user sweep, unit tests and the benches. A route method resolves to the
 * JSON of a 2xx answer and throws AdminCallError otherwise; `answer` hands back any status, for
 * tests that check refusals.
 */
export class AdminClient {
  readonly url: string;
  readonly token: string;
  readonly actor: string | undefined;
  readonly timeoutMs: number;

  constructor(endpoint: AdminEndpoint, options: AdminClientOptions = {}) {
    this.url = endpoint.url;
    this.token = endpoint.token;
    this.actor = options.actor;
    this.timeoutMs = options.timeoutMs ?? 120_000;
  }

  /** Any answer, its status and its JSON body (the text where it is not JSON). */
  async answer<T = unknown>(method: AdminMethod, route: string, body?: unknown): Promise<AdminAnswer<T>> {
    const { status, body: answered } = await this.exchange<T>(method, route, body);
    return { status, body: answered };
  }

  /** The JSON answer of a 2xx, or an AdminCallError with the hypervisor's own reason. */
  async call<T = unknown>(method: AdminMethod, route: string, body?: unknown): Promise<T> {
    const answer = await this.exchange<T>(method, route, body);
    if (answer.status >= 200 && answer.status < 300) return answer.body;
    throw AdminCallError.answered(method, route, answer.status, answer.body, answer.text);
  }

  /** One request; the raw text is kept for the error message of a refusal that is not JSON. */
  private async exchange<T>(method: AdminMethod, route: string, body?: unknown): Promise<AdminAnswer<T> & { text: string }> {
    const target = new URL(route, this.url);
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(target, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (error) {
      throw new AdminCallError(`cannot reach the hypervisor at ${this.url} (${(error as Error).message}): is it running? Set HYPERVISOR_URL to its address`);
    }
    const text = await res.body.text();
    let parsed: unknown = text || undefined;
    try {
      if (text) parsed = JSON.parse(text);
    } catch {
      // A non-JSON answer (a proxy's error page) is kept as text.
    }
    return { status: res.statusCode, body: parsed as T, text };
  }

  /** The request body's actor and reason for a switch. */
  private switchBody(reason: string | undefined, action: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { ...extra, reason: reason ?? `${this.actor ?? 'admin client'}: ${action}`, ...(this.actor === undefined ? {} : { actor: this.actor }) };
  }

  private actorBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { ...extra, ...(this.actor === undefined ? {} : { actor: this.actor }) };
  }

  sandboxes(): Promise<AdminSandbox[]> {
    return this.call<AdminSandbox[]>('GET', '/admin/sandboxes');
  }

  async sandbox(userId: string, role: Role): Promise<AdminSandbox | undefined> {
    return (await this.sandboxes()).find((s) => s.user_id === userId && s.role === role);
  }

  /** With `spec`, what it gives replaces the recorded spec, and a running sandbox with another spec is replaced. */
  start(userId: string, role: Role, spec?: SandboxStartSpec): Promise<AdminSandbox> {
    return this.call('POST', `/admin/sandboxes/${path(userId)}/${role}/start`, spec);
  }

  stop(userId: string, role: Role): Promise<AdminSandbox> {
    return this.call('POST', `/admin/sandboxes/${path(userId)}/${role}/stop`);
  }

  /** The instance it answers with (container or process) is a new one: a restart that reports the running one has not restarted. */
  restart(userId: string, role: Role): Promise<AdminSandbox> {
    return this.call('POST', `/admin/sandboxes/${path(userId)}/${role}/restart`);
  }

  swap(userId: string, reason?: string): Promise<RouteSwitch> {
    return this.call('POST', `/admin/sandboxes/${path(userId)}/swap`, this.switchBody(reason, 'swap'));
  }

  pointers(userId: string): Promise<Pointers> {
    return this.call('GET', `/admin/sandboxes/${path(userId)}/pointers`);
  }

  switches(userId: string, limit?: number | string): Promise<{ switches: SwitchEntry[] }> {
    return this.call('GET', `/admin/sandboxes/${path(userId)}/switches${limit === undefined ? '' : `?limit=${encodeURIComponent(String(limit))}`}`);
  }

  /** Every release, and the ids of the known-good ones whose images are kept (HYPERVISOR_KNOWN_GOOD_RETAIN). */
  releases(): Promise<{ releases: AdminRelease[]; retained: number[] }> {
    return this.call('GET', '/admin/releases');
  }

  createRelease(release: NewRelease): Promise<AdminRelease> {
    return this.call('POST', '/admin/releases', release);
  }

  markKnownGood(releaseId: number | string): Promise<AdminRelease> {
    return this.call('POST', `/admin/releases/${path(String(releaseId))}/known-good`, this.actorBody());
  }

  pruneReleases(): Promise<PruneAnswer> {
    return this.call('POST', '/admin/releases/prune');
  }

  deploy(userId: string, releaseId: number | string): Promise<DeployAnswer> {
    return this.call('POST', `/admin/sandboxes/${path(userId)}/deploy`, this.actorBody({ release_id: releaseId }));
  }

  promote(userId: string, reason?: string): Promise<PromoteAnswer> {
    return this.call('POST', `/admin/sandboxes/${path(userId)}/promote`, this.switchBody(reason, 'promote'));
  }

  /** Back to the previous known-good release, or to `releaseId`. */
  rollback(userId: string, reason?: string, releaseId?: number | string): Promise<RollbackAnswer> {
    return this.call('POST', `/admin/sandboxes/${path(userId)}/rollback`, this.switchBody(reason, 'rollback', releaseId === undefined ? {} : { release_id: releaseId }));
  }

  rollbackAll(reason?: string, releaseId?: number | string): Promise<RollbackAllAnswer> {
    return this.call('POST', '/admin/rollback', this.switchBody(reason, 'rollback', releaseId === undefined ? {} : { release_id: releaseId }));
  }

  /** Accounts whose username starts with `prefix`. */
  async users(prefix: string): Promise<UserListing[]> {
    return (await this.call<{ users: UserListing[] }>('GET', `/admin/users?prefix=${encodeURIComponent(prefix)}`)).users;
  }

  /** Deletes a user with their sessions, sandboxes and data. */
  deleteUser(userId: string): Promise<UserDeletion> {
    return this.call('DELETE', `/admin/users/${path(userId)}`);
  }
}
