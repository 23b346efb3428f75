/** A conductor run: the domain record, and the JSON shape the API and the WebSocket speak. */
export const runStatuses = ['initializing', 'running', 'waiting_for_calls', 'completing', 'completed', 'failed', 'blocked'] as const;
export type RunStatus = (typeof runStatuses)[number];

export const finishedStatuses: readonly RunStatus[] = ['completed', 'failed'];

export const outputModes = ['markdown_report_to_writer', 'auto'] as const;
export type OutputMode = (typeof outputModes)[number];

export interface RunError {
  code: string;
  message: string;
}

export interface Run {
  runId: string;
  desktopId: string;
  objective: string;
  outputMode: OutputMode;
  status: RunStatus;
  stepsDone: number;
  stepsTotal: number;
  currentStep: string | undefined;
  documentPath: string | undefined;
  error: RunError | undefined;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | undefined;
}

export interface RunView {
  run_id: string;
  desktop_id: string;
  objective: string;
  output_mode: OutputMode;
  status: RunStatus;
  steps_done: number;
  steps_total: number;
  current_step?: string;
  document_path?: string;
  error?: RunError;
  created_at: string;
  updated_at: string;
  finished_at?: string;
}

export function runView(run: Run): RunView {
  return {
    run_id: run.runId,
    desktop_id: run.desktopId,
    objective: run.objective,
    output_mode: run.outputMode,
    status: run.status,
    steps_done: run.stepsDone,
    steps_total: run.stepsTotal,
    ...(run.currentStep === undefined ? {} : { current_step: run.currentStep }),
    ...(run.documentPath === undefined ? {} : { document_path: run.documentPath }),
    ...(run.error === undefined ? {} : { error: run.error }),
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    ...(run.finishedAt === undefined ? {} : { finished_at: run.finishedAt }),
  };
}
