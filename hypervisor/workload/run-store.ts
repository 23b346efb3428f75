import { migrate, openDatabase, transaction, type Database } from '../store/database.ts';
import type { OutputMode, Run, RunError, RunStatus } from './run.ts';

const migrations = [
  `CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    desktop_id TEXT NOT NULL,
    objective TEXT NOT NULL,
    output_mode TEXT NOT NULL,
    status TEXT NOT NULL,
    steps_done INTEGER NOT NULL,
    steps_total INTEGER NOT NULL,
    current_step TEXT,
    document_path TEXT,
    error_code TEXT,
    error_message TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
  );
  CREATE INDEX runs_by_desktop ON runs (desktop_id, created_at);
  CREATE TABLE documents (
    run_id TEXT PRIMARY KEY REFERENCES runs (id),
    path TEXT NOT NULL,
    content TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL
  );`,
];

export interface StoredDocument {
  runId: string;
  path: string;
  content: string;
  sha256: string;
}

type Row = Record<string, unknown>;

const text = (value: unknown): string | undefined => (value === null || value === undefined ? undefined : String(value));

function runFromRow(row: Row): Run {
  const errorCode = text(row.error_code);
  const error: RunError | undefined = errorCode === undefined ? undefined : { code: errorCode, message: text(row.error_message) ?? '' };
  return {
    runId: String(row.id),
    desktopId: String(row.desktop_id),
    objective: String(row.objective),
    outputMode: String(row.output_mode) as OutputMode,
    status: String(row.status) as RunStatus,
    stepsDone: Number(row.steps_done),
    stepsTotal: Number(row.steps_total),
    currentStep: text(row.current_step),
    documentPath: text(row.document_path),
    error,
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
    finishedAt: text(row.finished_at),
  };
}

/** Runs and their documents in the sandbox's SQLite file, so they outlive restarts and new image versions. */
export class RunStore {
  readonly db: Database;

  constructor(databaseUrl: string) {
    this.db = openDatabase(databaseUrl);
    migrate(this.db, 'sandbox_runs', migrations);
  }

  insert(run: Run): void {
    this.db
      .prepare(
        `INSERT INTO runs (id, desktop_id, objective, output_mode, status, steps_done, steps_total, current_step, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(run.runId, run.desktopId, run.objective, run.outputMode, run.status, run.stepsDone, run.stepsTotal, run.currentStep ?? null, run.createdAt, run.updatedAt);
  }

  /** Records a step or status change of a run that is still going. */
  advance(run: Run): void {
    this.db
      .prepare('UPDATE runs SET status = ?, steps_done = ?, current_step = ?, updated_at = ? WHERE id = ?')
      .run(run.status, run.stepsDone, run.currentStep ?? null, run.updatedAt, run.runId);
  }

  /** The document and the completed run land together or not at all. */
  complete(run: Run, document: StoredDocument): void {
    transaction(this.db, () => {
      this.db
        .prepare('INSERT INTO documents (run_id, path, content, sha256, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(document.runId, document.path, document.content, document.sha256, run.updatedAt);
      this.db
        .prepare('UPDATE runs SET status = ?, steps_done = ?, current_step = NULL, document_path = ?, updated_at = ?, finished_at = ? WHERE id = ?')
        .run(run.status, run.stepsDone, document.path, run.updatedAt, run.finishedAt ?? run.updatedAt, run.runId);
    });
  }

  fail(run: Run, error: RunError): void {
    this.db
      .prepare('UPDATE runs SET status = ?, error_code = ?, error_message = ?, updated_at = ?, finished_at = ? WHERE id = ?')
      .run('failed', error.code, error.message, run.updatedAt, run.finishedAt ?? run.updatedAt, run.runId);
  }

  /** Marks every run left unfinished (by a crash or a kill) as failed; returns their ids. */
  failUnfinished(error: RunError, at: string): string[] {
    return transaction(this.db, () => {
      const ids = this.db
        .prepare("SELECT id FROM runs WHERE status NOT IN ('completed', 'failed')")
        .all()
        .map((row) => String(row.id));
      this.db
        .prepare("UPDATE runs SET status = 'failed', error_code = ?, error_message = ?, updated_at = ?, finished_at = ? WHERE status NOT IN ('completed', 'failed')")
        .run(error.code, error.message, at, at);
      return ids;
    });
  }

  get(runId: string): Run | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(runId);
    return row ? runFromRow(row) : undefined;
  }

  /** Newest first. */
  list(filter: { desktopId?: string; limit: number }): Run[] {
    const rows =
      filter.desktopId === undefined
        ? this.db.prepare('SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT ?').all(filter.limit)
        : this.db.prepare('SELECT * FROM runs WHERE desktop_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?').all(filter.desktopId, filter.limit);
    return rows.map(runFromRow);
  }

  document(runId: string): StoredDocument | undefined {
    const row = this.db.prepare('SELECT * FROM documents WHERE run_id = ?').get(runId);
    return row ? { runId: String(row.run_id), path: String(row.path), content: String(row.content), sha256: String(row.sha256) } : undefined;
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
