import { isImageReference } from '../config.ts';
import { SandboxConfigError } from '../sandboxes/env.ts';
import { SandboxNotFoundError, SandboxStartError } from '../sandboxes/errors.ts';
import type { SandboxInfo } from '../sandboxes/info.ts';
import type { SandboxManager } from '../sandboxes/manager.ts';
import { InvalidRoleError, parseRole } from '../domain/role.ts';
import { runtimeKinds, type RuntimeKind } from '../domain/runtime-kind.ts';
import type { SandboxKey, SandboxSpec } from '../domain/sandbox.ts';
import { InvalidUserIdError, parseUserId, userIdPattern, userIdRule } from '../sandboxes/user-id.ts';
import { HttpError } from './errors.ts';
import { readJsonObject, sendJson } from './json.ts';
import type { Route, RouteContext } from './router.ts';

/** The contract's shape ({user_id, role, port, status, idle_secs}) plus what an operator needs. */
export interface SandboxView {
  user_id: string;
  role: string;
  port: number;
  status: string;
  idle_secs: number;
  state: string;
  desired: string;
  runtime: RuntimeKind;
  image: string;
  container_id: string | null;
  pid: number | null;
  restarts: number;
  last_error: string | null;
}

export function sandboxView(info: SandboxInfo): SandboxView {
  return {
    user_id: info.userId,
    role: info.role,
    port: info.port,
    status: info.status,
    idle_secs: info.idleSecs,
    state: info.state,
    desired: info.desired,
    runtime: info.spec.runtime,
    image: info.spec.image,
    container_id: info.containerId,
    pid: info.pid,
    restarts: info.restarts,
    last_error: info.lastError,
  };
}

/** The (user, role) in the path, or a 400 naming what is wrong. */
export function sandboxKeyFrom(params: Readonly<Record<string, string>>): SandboxKey {
  try {
    const role = parseRole(params.role ?? '');
    return { userId: parseUserId(params.userId ?? ''), role };
  } catch (error) {
    if (error instanceof InvalidRoleError) throw new HttpError(400, error.message);
    if (error instanceof InvalidUserIdError) throw new HttpError(400, error.message, { user_id: error.userId, rule: userIdRule, pattern: userIdPattern.source });
    throw error;
  }
}

/** Optional body of a start: {runtime?, image?, config?}; anything given overrides the recorded spec. */
async function specFrom(context: RouteContext, current: SandboxSpec): Promise<SandboxSpec | undefined> {
  const body = await readJsonObject(context.req);
  if (Object.keys(body).length === 0) return undefined;
  const unknown = Object.keys(body).filter((field) => !['runtime', 'image', 'config'].includes(field));
  if (unknown.length) throw new HttpError(400, `unknown field(s) ${unknown.join(', ')}: a start body may hold runtime, image and config`);
  const { runtime, image, config } = body;
  if (runtime !== undefined && !(runtimeKinds as readonly unknown[]).includes(runtime)) throw new HttpError(400, `runtime must be ${runtimeKinds.map((kind) => `'${kind}'`).join(' or ')}`);
  if (image !== undefined && (typeof image !== 'string' || !isImageReference(image))) {
    throw new HttpError(400, 'image must be an image reference such as localhost/choir-sandbox:0.1.0 ([registry/]name[:tag][@sha256:digest], lowercase)');
  }
  if (config !== undefined && (typeof config !== 'object' || config === null || Array.isArray(config) || Object.values(config).some((value) => typeof value !== 'string'))) {
    throw new HttpError(400, 'config must be an object of string values');
  }
  return {
    runtime: (runtime as RuntimeKind | undefined) ?? current.runtime,
    image: (image as string | undefined) ?? current.image,
    ...((config ?? current.config) ? { config: (config ?? current.config) as Record<string, string> } : {}),
  };
}

async function lifecycle(context: RouteContext, work: (key: SandboxKey) => Promise<SandboxInfo>): Promise<void> {
  const key = sandboxKeyFrom(context.params);
  try {
    sendJson(context.res, 200, sandboxView(await work(key)));
  } catch (error) {
    if (error instanceof SandboxNotFoundError) throw new HttpError(404, error.message);
    if (error instanceof SandboxConfigError) throw new HttpError(400, error.message, { variable: error.variable });
    if (error instanceof SandboxStartError) throw new HttpError(503, error.message.split('\n--- ')[0] ?? error.message, { log_tail: error.logTail, status: 'failed' });
    throw error;
  }
}

/** GET /admin/sandboxes and the lifecycle routes of the contract. */
export function sandboxAdminRoutes(sandboxes: SandboxManager): Route[] {
  return [
    {
      method: 'GET',
      path: '/admin/sandboxes',
      handle: async ({ res }) => sendJson(res, 200, sandboxes.list().map(sandboxView)),
    },
    {
      method: 'GET',
      path: '/admin/sandboxes/:userId/:role',
      handle: async ({ res, params }) => {
        const info = sandboxes.get(sandboxKeyFrom(params));
        if (!info) throw new HttpError(404, `there is no sandbox ${params.userId}:${params.role}`);
        sendJson(res, 200, sandboxView(info));
      },
    },
    {
      method: 'POST',
      path: '/admin/sandboxes/:userId/:role/start',
      handle: (context) =>
        lifecycle(context, async (key) => {
          const current = sandboxes.get(key)?.spec ?? sandboxes.defaultSpec;
          return sandboxes.start(key, await specFrom(context, current));
        }),
    },
    { method: 'POST', path: '/admin/sandboxes/:userId/:role/stop', handle: (context) => lifecycle(context, (key) => sandboxes.stop(key)) },
    { method: 'POST', path: '/admin/sandboxes/:userId/:role/restart', handle: (context) => lifecycle(context, (key) => sandboxes.restart(key)) },
  ];
}
