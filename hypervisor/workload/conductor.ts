import { EventEmitter } from 'node:events';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.ts';
import { objectiveFacts, renderReport, reportSteps, type ObjectiveFacts } from './report.ts';
import type { OutputMode, Run, RunError, RunStatus } from './run.ts';
import type { RunStore } from './run-store.ts';

export interface ExecuteRequest {
  objective: string;
  desktopId: string;
  outputMode: OutputMode;
}

interface RunEventBase {
  run_id: string;
  desktop_id: string;
  status: RunStatus;
}

export type ConductorEvent =
  | (RunEventBase & { type: 'conductor.run.started'; objective: string; steps_total: number })
  | (RunEventBase & { type: 'conductor.run.progress'; step: { index: number; total: number; name: string } })
  | (RunEventBase & { type: 'conductor.run.completed'; document_path: string })
  | (RunEventBase & { type: 'conductor.run.failed'; error: RunError });

/** Error codes a failed run can carry. */
export const runErrorCodes = {
  interrupted: 'interrupted',
  documentWriteFailed: 'document_write_failed',
  stepFailed: 'step_failed',
} as const;

interface ActiveRun {
  run: Run;
  facts: ObjectiveFacts;
  sections: string[];
  timer: NodeJS.Timeout | undefined;
}

const writeDocumentStep = 'write document';

/**
 * Drives runs through initializing -> running (one step per report section) -> completing ->
 * completed, one step every `stepMs`, recording each transition before announcing it.
 */
export class Conductor {
  readonly #store: RunStore;
  readonly #dataDir: string;
  readonly #stepMs: number;
  readonly #log: Logger;
  readonly #events = new EventEmitter<{ event: [ConductorEvent] }>();
  readonly #active = new Map<string, ActiveRun>();

  constructor(options: { store: RunStore; dataDir: string; stepMs: number; log: Logger }) {
    this.#store = options.store;
    this.#dataDir = options.dataDir;
    this.#stepMs = options.stepMs;
    this.#log = options.log;
  }

  onEvent(listener: (event: ConductorEvent) => void): void {
    this.#events.on('event', listener);
  }

  get activeCount(): number {
    return this.#active.size;
  }

  execute(request: ExecuteRequest): Run {
    const now = new Date().toISOString();
    const run: Run = {
      runId: randomUUID(),
      desktopId: request.desktopId,
      objective: request.objective,
      outputMode: request.outputMode,
      status: 'initializing',
      stepsDone: 0,
      stepsTotal: reportSteps.length,
      currentStep: undefined,
      documentPath: undefined,
      error: undefined,
      createdAt: now,
      updatedAt: now,
      finishedAt: undefined,
    };
    this.#store.insert(run);
    const active: ActiveRun = { run, facts: objectiveFacts(request.objective), sections: [], timer: undefined };
    this.#active.set(run.runId, active);
    this.#log.info({ event: 'conductor.run.started', run_id: run.runId, desktop_id: run.desktopId }, 'run started');
    this.#emit({ type: 'conductor.run.started', ...this.#base(run), objective: run.objective, steps_total: run.stepsTotal });
    this.#schedule(active);
    return { ...run };
  }

  /** Ends every in-flight run as failed with `interrupted`, so none is ever left running. */
  interruptAll(reason: string): void {
    for (const active of [...this.#active.values()]) {
      this.#fail(active, { code: runErrorCodes.interrupted, message: reason });
    }
  }

  #schedule(active: ActiveRun): void {
    active.timer = setTimeout(() => this.#step(active), this.#stepMs);
  }

  #step(active: ActiveRun): void {
    active.timer = undefined;
    const { run } = active;
    try {
      const next = reportSteps[run.stepsDone];
      if (next) {
        active.sections.push(next.section(active.facts));
        this.#advance(active, 'running', next.name, run.stepsDone + 1);
        this.#schedule(active);
      } else if (run.status !== 'completing') {
        this.#advance(active, 'completing', writeDocumentStep, run.stepsDone);
        this.#schedule(active);
      } else {
        this.#complete(active);
      }
    } catch (error) {
      this.#fail(active, { code: runErrorCodes.stepFailed, message: `step "${run.currentStep ?? 'start'}" failed: ${(error as Error).message}` });
    }
  }

  #advance(active: ActiveRun, status: RunStatus, stepName: string, stepsDone: number): void {
    const run = active.run;
    Object.assign(run, { status, stepsDone, currentStep: stepName, updatedAt: new Date().toISOString() });
    this.#store.advance(run);
    const index = status === 'completing' ? run.stepsTotal : stepsDone;
    this.#emit({ type: 'conductor.run.progress', ...this.#base(run), step: { index, total: run.stepsTotal, name: stepName } });
  }

  #complete(active: ActiveRun): void {
    const { run, facts } = active;
    const content = renderReport(facts, active.sections);
    const relativePath = path.posix.join('documents', `${facts.slug}-${run.runId.slice(0, 8)}.md`);
    try {
      const absolute = path.join(this.#dataDir, relativePath);
      mkdirSync(path.dirname(absolute), { recursive: true });
      writeFileSync(`${absolute}.partial`, content);
      renameSync(`${absolute}.partial`, absolute);
    } catch (error) {
      this.#fail(active, { code: runErrorCodes.documentWriteFailed, message: `could not write ${relativePath} under ${this.#dataDir}: ${(error as Error).message}` });
      return;
    }
    const now = new Date().toISOString();
    Object.assign(run, { status: 'completed', currentStep: undefined, documentPath: relativePath, updatedAt: now, finishedAt: now });
    this.#store.complete(run, { runId: run.runId, path: relativePath, content, sha256: createHash('sha256').update(content).digest('hex') });
    this.#active.delete(run.runId);
    this.#log.info({ event: 'conductor.run.completed', run_id: run.runId, document_path: relativePath }, 'run completed');
    this.#emit({ type: 'conductor.run.completed', ...this.#base(run), document_path: relativePath });
  }

  #fail(active: ActiveRun, error: RunError): void {
    const { run } = active;
    if (active.timer) clearTimeout(active.timer);
    this.#active.delete(run.runId);
    const now = new Date().toISOString();
    Object.assign(run, { status: 'failed', error, updatedAt: now, finishedAt: now });
    this.#store.fail(run, error);
    this.#log.warn({ event: 'conductor.run.failed', run_id: run.runId, code: error.code }, error.message);
    this.#emit({ type: 'conductor.run.failed', ...this.#base(run), error });
  }

  #base(run: Run): RunEventBase {
    return { run_id: run.runId, desktop_id: run.desktopId, status: run.status };
  }

  #emit(event: ConductorEvent): void {
    this.#events.emit('event', event);
  }
}
