import type { Logger } from '../log.ts';
import type { SandboxSettings } from './settings.ts';

/**
 * Faults a release's config can ask the workload for (admin-only diagnostics, never set by a user),
 * so a gate can prove on any target running this workload that the hypervisor refuses or gives up
 * on a sandbox that misbehaves: counted answers, not timings, wherever a count says it.
 */

/** Exit code of a diagnostic crash: EX_SOFTWARE, neither a clean stop (0) nor a refused start (78). */
export const diagnosticCrashExitCode = 70;

/**
 * SANDBOX_RUNS_OK_ANSWERS=N: whether the next GET /conductor/runs may answer its list. The first N
 * may; every later one is answered 500 with a JSON error (a release whose API fails although its
 * /health says healthy). Unset: always.
 */
export function runsListAnswers(settings: Pick<SandboxSettings, 'runsOkAnswers'>): () => boolean {
  let answered = 0;
  return () => {
    answered += 1;
    return settings.runsOkAnswers === undefined || answered <= settings.runsOkAnswers;
  };
}

/**
 * SANDBOX_CRASH_AFTER_HEALTHY_MS=N: called after every /health answer; N ms after the first one (the
 * hypervisor's readiness check) the process exits with diagnosticCrashExitCode, a crash right after
 * every start. The delay only lets the readiness answer reach the hypervisor before the exit. Unset: never.
 */
export function crashAfterFirstHealthy(
  settings: Pick<SandboxSettings, 'crashAfterHealthyMs'>,
  log: Logger,
  exit: (code: number) => void = (code) => process.exit(code),
): () => void {
  return onceAfterFirstHealthy(settings.crashAfterHealthyMs, (delayMs) => {
    log.warn({ event: 'sandbox.diagnostic_crash', exit_code: diagnosticCrashExitCode, after_ms: delayMs }, 'exiting on purpose (SANDBOX_CRASH_AFTER_HEALTHY_MS)');
    exit(diagnosticCrashExitCode);
  });
}

/** Called after every /health answer: runs `act` once, `delayMs` after the first; undefined: never. */
function onceAfterFirstHealthy(delayMs: number | undefined, act: (delayMs: number) => void): () => void {
  let scheduled = false;
  return () => {
    if (delayMs === undefined || scheduled) return;
    scheduled = true;
    setTimeout(() => act(delayMs), delayMs);
  };
}

/**
 * SANDBOX_STOP_LISTENING_AFTER_HEALTHY_MS=N: called after every /health answer; N ms after the first
 * one (the hypervisor's readiness check) the sandbox closes its listening socket and every open
 * connection, logs `sandbox.diagnostic_stop_listening`, and keeps its process alive: a sandbox the
 * hypervisor records running (its process never exits) on whose port nothing accepts, so a proxied
 * request meets a refused connection (as a direct process; a container's published port is held by
 * podman's forwarder, which accepts and then drops). Unset: never.
 */
export function stopListeningAfterFirstHealthy(
  settings: Pick<SandboxSettings, 'stopListeningAfterHealthyMs'>,
  log: Logger,
  stopListening: () => void,
): () => void {
  return onceAfterFirstHealthy(settings.stopListeningAfterHealthyMs, (delayMs) => {
    log.warn({ event: 'sandbox.diagnostic_stop_listening', after_ms: delayMs }, 'no longer accepting connections on purpose, the process kept alive (SANDBOX_STOP_LISTENING_AFTER_HEALTHY_MS)');
    stopListening();
  });
}
