import type { RuntimeKind } from '../domain/runtime-kind.ts';

/** The lifecycle transitions; each is one JSON log line (Phase 1 evidence) and one `transition` event. */
export type TransitionEvent =
  | 'sandbox.start_requested'
  | 'sandbox.ready'
  | 'sandbox.stop'
  | 'sandbox.crash'
  | 'sandbox.restart'
  | 'sandbox.adopt'
  | 'sandbox.failed'
  | 'sandbox.stray_removed';

export interface SandboxTransition {
  event: TransitionEvent;
  user: string;
  role: string;
  runtime: RuntimeKind;
  port: number;
  container_id?: string;
  pid?: number;
  duration_ms?: number;
  /** Why it happened: admin, proxy, crash, idle, reconcile, replaced ... */
  reason?: string;
  error?: string;
  log_tail?: string;
  image?: string;
  attempt?: number;
  delay_ms?: number;
}

export const transitionLevel = (event: TransitionEvent): 'info' | 'warn' | 'error' =>
  event === 'sandbox.failed' ? 'error' : event === 'sandbox.crash' || event === 'sandbox.stray_removed' ? 'warn' : 'info';
