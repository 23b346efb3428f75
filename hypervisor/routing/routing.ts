import type { Route } from '../domain/route.ts';
import type { Logger } from '../log.ts';
import type { Database } from '../store/database.ts';
import type { RuntimeKind } from '../domain/runtime-kind.ts';
import { defaultRoutingOptions, type RoutingContext, type RoutingOptions, type SlotControl, type TrafficControl } from './context.ts';
import { deploy, promote, type DeployResult, type PromoteResult } from './deploy.ts';
import { RoutingError } from './errors.ts';
import { httpHealthGate, type HealthGate } from './health-gate.ts';
import { checkoutRevision, inspectImage, removeImage, type ImageFacts } from './release-image.ts';
import { Releases, type Release, type ReleaseConfig } from './releases.ts';
import { prune, retainedReleases, type PruneResult } from './retention.ts';
import { rollback, type RollbackRequest, type RollbackResult } from './rollback.ts';
import { RoutePointers, type Pointers } from './route-pointers.ts';
import { migrateRouting } from './schema.ts';
import { SlotReleases } from './slot-releases.ts';
import { SwitchHistory, type SwitchRecord } from './switch-history.ts';
import { swap, type SwitchResult } from './switch.ts';
import { KeyedLock } from '../keyed-lock.ts';

export interface RoutingDeps {
  db: Database;
  slots: SlotControl;
  traffic: TrafficControl;
  logger: Logger;
  options?: Partial<RoutingOptions>;
  healthGate?: HealthGate;
  /** How release images are resolved and removed (podman by default). */
  images?: { inspect(reference: string): Promise<ImageFacts>; remove(image: string): Promise<void> };
}

export interface CreateReleaseInput {
  runtime: RuntimeKind;
  /** Image reference or id; required for podman, ignored for process. */
  image?: string;
  config?: ReleaseConfig;
  note?: string;
}

export interface UserRollback {
  userId: string;
  result?: RollbackResult;
  error?: RoutingError;
}

/**
 * Route swap, releases, known-good and rollback: the one object the admin API, the proxy and the
 * CLI's server side use. Pointers are durable; every operation on a user runs under that user's lock.
 */
export class Routing {
  readonly pointers: RoutePointers;
  readonly releases: Releases;
  readonly history: SwitchHistory;
  readonly #ctx: RoutingContext;
  readonly #images: NonNullable<RoutingDeps['images']>;

  constructor(deps: RoutingDeps) {
    migrateRouting(deps.db);
    this.pointers = new RoutePointers(deps.db);
    this.releases = new Releases(deps.db);
    this.history = new SwitchHistory(deps.db);
    this.#images = deps.images ?? { inspect: (reference) => inspectImage(reference), remove: (image) => removeImage(image) };
    this.#ctx = {
      pointers: this.pointers,
      releases: this.releases,
      slotReleases: new SlotReleases(deps.db),
      history: this.history,
      slots: deps.slots,
      traffic: deps.traffic,
      healthGate: deps.healthGate ?? httpHealthGate,
      lock: new KeyedLock(),
      logger: deps.logger,
      options: { ...defaultRoutingOptions, ...deps.options },
    };
  }

  /** The slot a user's route resolves to (the proxy asks on every request). */
  resolve(userId: string, route: Route): ReturnType<RoutePointers['resolve']> {
    return this.pointers.resolve(userId, route);
  }

  pointersOf(userId: string): Pointers {
    return this.pointers.get(userId);
  }

  /** What each slot of a user runs: the release (if deployed through routing) and its state. */
  slotsOf(userId: string): ReturnType<SlotReleases['get']>[] {
    return (['live', 'dev'] as const).map((role) => this.#ctx.slotReleases.get(userId, role));
  }

  swap(userId: string, actor: string, reason: string): Promise<SwitchResult> {
    return swap(this.#ctx, userId, actor, reason);
  }

  async createRelease(input: CreateReleaseInput): Promise<Release> {
    let release: Release;
    if (input.runtime === 'podman') {
      if (!input.image) throw new RoutingError('invalid_input', 'a podman release needs an image: give "image" as a reference (localhost/choir-sandbox:0.1.0) or an image id');
      const facts = await this.#images.inspect(input.image);
      release = this.releases.create({ runtime: 'podman', image: facts.id, imageRef: input.image, config: input.config ?? {}, revision: facts.revision, note: input.note ?? null });
    } else {
      release = this.releases.create({ runtime: 'process', image: '', imageRef: 'process', config: input.config ?? {}, revision: await checkoutRevision(), note: input.note ?? null });
    }
    this.#ctx.logger.info({ event: 'routing.release_created', release: release.id, runtime: release.runtime, image: release.image, revision: release.revision }, `release ${release.id} created`);
    return release;
  }

  markKnownGood(releaseId: number, actor: string): Release {
    const release = this.releases.markKnownGood(releaseId);
    this.#ctx.logger.info({ event: 'routing.known_good', release: releaseId, by: actor }, `release ${releaseId} marked known-good`);
    return release;
  }

  /** The known-good releases whose images are kept (HYPERVISOR_KNOWN_GOOD_RETAIN). */
  retained(): Release[] {
    return retainedReleases(this.releases, this.#ctx.options.knownGoodRetain);
  }

  deploy(userId: string, releaseId: number, actor: string): Promise<DeployResult> {
    return deploy(this.#ctx, userId, releaseId, actor);
  }

  promote(userId: string, actor: string, reason: string): Promise<PromoteResult> {
    return promote(this.#ctx, userId, actor, reason);
  }

  rollback(request: RollbackRequest): Promise<RollbackResult> {
    return rollback(this.#ctx, request);
  }

  /** Rolls back every user routing or the manager knows, two at a time; one user's failure does not stop the rest. */
  async rollbackAll(request: Omit<RollbackRequest, 'userId'>): Promise<UserRollback[]> {
    const users = [...new Set([...this.pointers.users(), ...this.#ctx.slotReleases.users(), ...this.#ctx.slots.users()])].sort();
    const results: UserRollback[] = [];
    const queue = [...users];
    const worker = async (): Promise<void> => {
      for (let userId = queue.shift(); userId !== undefined; userId = queue.shift()) {
        try {
          results.push({ userId, result: await this.rollback({ ...request, userId }) });
        } catch (error) {
          if (!(error instanceof RoutingError)) throw error;
          results.push({ userId, error });
        }
      }
    };
    await Promise.all([worker(), worker()]);
    return results.sort((a, b) => a.userId.localeCompare(b.userId));
  }

  switches(options: { userId?: string; limit?: number } = {}): SwitchRecord[] {
    return this.history.list(options);
  }

  /** Removes release images that are neither retained known-good nor in use; see retention.ts. */
  async prune(): Promise<PruneResult> {
    const protectedImages: string[] = [];
    for (const reference of this.#ctx.options.protectedImages) {
      protectedImages.push(reference);
      const facts = await this.#images.inspect(reference).catch(() => undefined);
      if (facts) protectedImages.push(facts.id);
    }
    return prune({
      releases: this.releases,
      slotReleases: this.#ctx.slotReleases,
      retain: this.#ctx.options.knownGoodRetain,
      protectedImages,
      removeImage: (image) => this.#images.remove(image),
      logger: this.#ctx.logger,
    });
  }
}
