import { isImageReference } from '../config.ts';
import { HttpError } from '../http/errors.ts';
import { readJsonObject, sendJson } from '../http/json.ts';
import type { Route, RouteContext } from '../http/router.ts';
import { InvalidUserIdError, parseUserId, userIdRule } from '../sandboxes/user-id.ts';
import { RoutingError } from './errors.ts';
import { parseReleaseConfig, parseRuntime } from './releases.ts';
import type { Routing } from './routing.ts';
import { deployView, pointersView, promoteView, releaseView, rollbackView, switchResultView, switchView } from './views.ts';

type Body = Record<string, unknown>;

function userFrom(context: RouteContext): string {
  try {
    return parseUserId(context.params.userId ?? '');
  } catch (error) {
    if (error instanceof InvalidUserIdError) throw new HttpError(400, error.message, { user_id: error.userId, rule: userIdRule });
    throw error;
  }
}

function allowOnly(body: Body, fields: readonly string[]): void {
  const unknown = Object.keys(body).filter((field) => !fields.includes(field));
  if (unknown.length) throw new HttpError(400, `unknown field(s) ${unknown.join(', ')}: this route takes ${fields.join(', ')}`);
}

function text(body: Body, field: string, fallback: string, maxLength = 500): string {
  const value = body[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.trim() === '' || value.length > maxLength) throw new HttpError(400, `${field} must be a non-empty string of at most ${maxLength} characters`);
  return value.trim();
}

function releaseId(value: unknown, field: string): number {
  const id = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) throw new HttpError(400, `${field} must be a release id (a positive whole number, see GET /admin/releases); got ${JSON.stringify(value)}`);
  return id;
}

/** Who asked: the admin, plus the name a client declared for itself (the CLI sends cli:<user>). */
const actorOf = (body: Body): string => {
  const declared = text(body, 'actor', '', 64);
  return declared ? `admin:${declared}` : 'admin';
};

/** Runs a routing operation; its refusals become JSON errors with the routing error's code. */
async function answer(context: RouteContext, status: number, work: () => unknown): Promise<void> {
  try {
    sendJson(context.res, status, await work());
  } catch (error) {
    if (error instanceof RoutingError) throw new HttpError(error.status, error.message, { code: error.code });
    throw error;
  }
}

/**
 * Route swap, releases, deploy, promote, rollback and the switch history, under /admin (behind the
 * admin bearer token like every admin route). Listed before the sandbox routes, whose
 * /admin/sandboxes/:userId/:role would otherwise take /admin/sandboxes/:userId/pointers.
 */
export function routingAdminRoutes(routing: Routing): Route[] {
  const retainedIds = (): Set<number> => new Set(routing.retained().map((release) => release.id));
  return [
    {
      method: 'GET',
      path: '/admin/sandboxes/:userId/pointers',
      handle: (context) => answer(context, 200, () => {
        const userId = userFrom(context);
        return pointersView(userId, routing.pointersOf(userId), routing.slotsOf(userId));
      }),
    },
    {
      method: 'POST',
      path: '/admin/sandboxes/:userId/swap',
      handle: async (context) => {
        const userId = userFrom(context);
        const body = await readJsonObject(context.req);
        allowOnly(body, ['reason', 'actor']);
        await answer(context, 200, async () => switchResultView(await routing.swap(userId, actorOf(body), text(body, 'reason', 'swap'))));
      },
    },
    {
      method: 'POST',
      path: '/admin/sandboxes/:userId/deploy',
      handle: async (context) => {
        const userId = userFrom(context);
        const body = await readJsonObject(context.req);
        allowOnly(body, ['release_id', 'actor']);
        await answer(context, 200, async () => deployView(await routing.deploy(userId, releaseId(body.release_id, 'release_id'), actorOf(body))));
      },
    },
    {
      method: 'POST',
      path: '/admin/sandboxes/:userId/promote',
      handle: async (context) => {
        const userId = userFrom(context);
        const body = await readJsonObject(context.req);
        allowOnly(body, ['reason', 'actor']);
        await answer(context, 200, async () => promoteView(await routing.promote(userId, actorOf(body), text(body, 'reason', 'promote'))));
      },
    },
    {
      method: 'POST',
      path: '/admin/sandboxes/:userId/rollback',
      handle: async (context) => {
        const userId = userFrom(context);
        const body = await readJsonObject(context.req);
        allowOnly(body, ['reason', 'release_id', 'actor']);
        const chosen = body.release_id === undefined ? {} : { releaseId: releaseId(body.release_id, 'release_id') };
        await answer(context, 200, async () => rollbackView(await routing.rollback({ userId, actor: actorOf(body), reason: text(body, 'reason', 'rollback'), ...chosen })));
      },
    },
    {
      method: 'GET',
      path: '/admin/sandboxes/:userId/switches',
      handle: (context) => answer(context, 200, () => ({ switches: routing.switches({ userId: userFrom(context), limit: limitFrom(context) }).map(switchView) })),
    },
    {
      method: 'POST',
      path: '/admin/rollback',
      handle: async (context) => {
        const body = await readJsonObject(context.req);
        allowOnly(body, ['reason', 'release_id', 'actor']);
        const chosen = body.release_id === undefined ? {} : { releaseId: releaseId(body.release_id, 'release_id') };
        const results = await routing.rollbackAll({ actor: actorOf(body), reason: text(body, 'reason', 'rollback all'), ...chosen });
        const views = results.map((entry) => (entry.result ? { ok: true, ...rollbackView(entry.result) } : { user_id: entry.userId, ok: false, error: entry.error?.message, code: entry.error?.code }));
        // All or nothing is not possible across users: 200 only when every user rolled back.
        sendJson(context.res, views.every((view) => view.ok) ? 200 : 422, { results: views });
      },
    },
    {
      method: 'GET',
      path: '/admin/switches',
      handle: (context) => answer(context, 200, () => ({ switches: routing.switches({ limit: limitFrom(context) }).map(switchView) })),
    },
    {
      method: 'GET',
      path: '/admin/releases',
      handle: (context) => answer(context, 200, () => {
        const retained = retainedIds();
        return { releases: routing.releases.list().map((release) => releaseView(release, retained)), retained: [...retained] };
      }),
    },
    {
      method: 'POST',
      path: '/admin/releases',
      handle: async (context) => {
        const body = await readJsonObject(context.req);
        allowOnly(body, ['runtime', 'image', 'config', 'note']);
        const image = body.image === undefined ? undefined : text(body, 'image', '', 300);
        if (image !== undefined && !isImageReference(image)) {
          throw new HttpError(400, 'image must be an image reference such as localhost/choir-sandbox:0.1.0 ([registry/]name[:tag][@sha256:digest], lowercase)');
        }
        const note = body.note === undefined ? undefined : text(body, 'note', '', 500);
        await answer(context, 201, async () =>
          releaseView(await routing.createRelease({ runtime: parseRuntime(body.runtime), config: parseReleaseConfig(body.config), ...(image ? { image } : {}), ...(note ? { note } : {}) })),
        );
      },
    },
    {
      method: 'POST',
      path: '/admin/releases/prune',
      handle: (context) => answer(context, 200, () => routing.prune()),
    },
    {
      method: 'POST',
      path: '/admin/releases/:releaseId/known-good',
      handle: async (context) => {
        const body = await readJsonObject(context.req);
        allowOnly(body, ['actor']);
        await answer(context, 200, () => releaseView(routing.markKnownGood(releaseId(context.params.releaseId, 'the release id in the path'), actorOf(body)), retainedIds()));
      },
    },
  ];
}

function limitFrom(context: RouteContext): number {
  const raw = context.url.searchParams.get('limit');
  if (raw === null) return 100;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > 1000) throw new HttpError(400, 'limit must be a whole number from 1 to 1000');
  return limit;
}
