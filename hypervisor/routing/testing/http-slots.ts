import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sandboxId, type SandboxKey, type SandboxSpec, type SandboxStatus } from '../../domain/sandbox.ts';
import type { SlotControl, TrafficControl } from '../context.ts';

/**
 * How a test slot answers: healthy, unhealthy (500 on /health), api-broken (healthy on /health but
 * 500 on its API, what only a smoke request sees), or failing to start at all.
 */
export type SlotBehaviour = 'healthy' | 'unhealthy' | 'api-broken' | 'fails-to-start';

interface TestSlot {
  server: Server;
  port: number;
  spec: SandboxSpec;
  behaviour: SlotBehaviour;
}

const delayOf = (spec: SandboxSpec, name: string): number => Number(spec.config?.[name] ?? 0);

/**
 * Slot control for unit tests of routing's orchestration: each slot is a real HTTP server on a
 * loopback port answering /health and /conductor/runs like a sandbox. A release whose config has
 * TEST_BEHAVIOUR decides how its slot behaves; TEST_START_DELAY_MS makes its start slow and
 * TEST_HEALTH_DELAY_MS its /health answers. Records what routing asked of it.
 */
export class HttpSlots implements SlotControl {
  readonly calls: string[] = [];
  readonly #slots = new Map<string, TestSlot>();
  /** Stopped slots keep their spec, as the sandbox manager keeps a stopped sandbox's record. */
  readonly #stopped = new Map<string, SandboxSpec>();

  async start(key: SandboxKey, spec: SandboxSpec): Promise<{ port: number }> {
    this.calls.push(`start ${sandboxId(key)} ${spec.image}`);
    await this.#close(key);
    this.#stopped.delete(sandboxId(key));
    const behaviour = (spec.config?.TEST_BEHAVIOUR as SlotBehaviour | undefined) ?? 'healthy';
    if (behaviour === 'fails-to-start') throw new Error(`sandbox ${sandboxId(key)} exited with code 1 (TEST_BEHAVIOUR=fails-to-start)`);
    await sleep(delayOf(spec, 'TEST_START_DELAY_MS'));
    const healthDelayMs = delayOf(spec, 'TEST_HEALTH_DELAY_MS');
    const slot = { spec, behaviour } as TestSlot;
    slot.server = createServer(async (req, res) => {
      if (req.url === '/health') {
        await sleep(healthDelayMs);
        const healthy = slot.behaviour === 'healthy' || slot.behaviour === 'api-broken';
        res.writeHead(healthy ? 200 : 500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(healthy ? { status: 'healthy', version: spec.image, instance_role: key.role } : { status: 'broken' }));
        return;
      }
      const apiBroken = slot.behaviour === 'api-broken';
      res.writeHead(apiBroken ? 500 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(apiBroken ? { error: 'database is locked' } : { runs: [] }));
    });
    await new Promise<void>((resolve) => slot.server.listen(0, '127.0.0.1', resolve));
    slot.port = (slot.server.address() as AddressInfo).port;
    this.#slots.set(sandboxId(key), slot);
    return { port: slot.port };
  }

  async ensureRunning(key: SandboxKey): Promise<{ port: number }> {
    this.calls.push(`ensureRunning ${sandboxId(key)}`);
    const slot = this.#slots.get(sandboxId(key));
    if (slot) return { port: slot.port };
    return this.start(key, this.#stopped.get(sandboxId(key)) ?? { runtime: 'process', image: 'default' });
  }

  async stop(key: SandboxKey): Promise<void> {
    this.calls.push(`stop ${sandboxId(key)}`);
    const spec = this.#slots.get(sandboxId(key))?.spec;
    await this.#close(key);
    if (spec) this.#stopped.set(sandboxId(key), spec);
  }

  status(key: SandboxKey): { status: SandboxStatus; port: number | null; spec: SandboxSpec } | undefined {
    const slot = this.#slots.get(sandboxId(key));
    if (slot) return { status: 'running', port: slot.port, spec: slot.spec };
    const stopped = this.#stopped.get(sandboxId(key));
    return stopped ? { status: 'stopped', port: null, spec: stopped } : undefined;
  }

  users(): string[] {
    return [...new Set([...this.#slots.keys(), ...this.#stopped.keys()].map((id) => id.split(':')[0] ?? ''))];
  }

  /** Makes a running slot answer unhealthy (or healthy again) from now on. */
  setBehaviour(key: SandboxKey, behaviour: SlotBehaviour): void {
    const slot = this.#slots.get(sandboxId(key));
    if (!slot) throw new Error(`no test slot ${sandboxId(key)}`);
    slot.behaviour = behaviour;
  }

  imageOf(key: SandboxKey): string | undefined {
    return this.#slots.get(sandboxId(key))?.spec.image;
  }

  async close(): Promise<void> {
    this.#stopped.clear();
    await Promise.all([...this.#slots.keys()].map((id) => this.#closeId(id)));
  }

  async #close(key: SandboxKey): Promise<void> {
    await this.#closeId(sandboxId(key));
  }

  async #closeId(id: string): Promise<void> {
    const slot = this.#slots.get(id);
    this.#slots.delete(id);
    if (slot) await new Promise<void>((resolve) => slot.server.close(() => resolve()));
  }
}

/** Traffic control that records what routing asked: which sandboxes were drained and closed. */
export class RecordedTraffic implements TrafficControl {
  readonly calls: string[] = [];
  /** Whether a drain finishes before its timeout (false: requests were still in flight when it gave up). */
  drainsInTime = true;

  async drained(id: string, timeoutMs: number): Promise<boolean> {
    this.calls.push(`drain ${id} ${timeoutMs}`);
    return this.drainsInTime;
  }

  closeWebSockets(id: string, code: number): number {
    this.calls.push(`close ${id} ${code}`);
    return 0;
  }
}
