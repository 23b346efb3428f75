/** What the interruption needs of a child process (node's ChildProcess and execa's subprocess alike). */
export interface StoppableChild {
  readonly pid?: number | undefined;
  kill(signal: NodeJS.Signals): boolean;
}

/** Thrown where the run would go on after SIGINT/SIGTERM: nothing new starts once the run is interrupted. */
export class InterruptedError extends Error {
  readonly signal: NodeJS.Signals;
  constructor(signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
    this.signal = signal;
  }
}

/** The exit code of a run stopped by `signal` (the shell's convention, 128 + the signal's number). */
export const interruptedExitCode = (signal: NodeJS.Signals): number => (signal === 'SIGTERM' ? 143 : 130);

/**
 * What `npm run integrity` does on SIGINT/SIGTERM, in the order cleanup needs: the Playwright child
 * is asked to stop (SIGINT, so it tears its fixtures down, Phase 2's cache directory among them) and
 * waited for, and only then does the run unwind and remove its scratch copy, which the child is
 * still writing into until it exits. A child that does not exit within `graceMs` is killed with its
 * whole process group (its workers included).
 */
export class Interruption {
  readonly graceMs: number;
  #signal: NodeJS.Signals | undefined;
  /** Children still running, each with the promise of its exit. */
  readonly #children = new Map<StoppableChild, Promise<void>>();
  readonly #stopped: Promise<void>[] = [];

  constructor(options: { graceMs: number }) {
    this.graceMs = options.graceMs;
  }

  get signal(): NodeJS.Signals | undefined {
    return this.#signal;
  }

  /** Throws InterruptedError once a signal came: call before starting anything and after each child. */
  check(): void {
    if (this.#signal !== undefined) throw new InterruptedError(this.#signal);
  }

  /**
   * Follows a child started in a process group of its own (`detached: true`), so a Ctrl-C at the
   * terminal reaches only this process and the child is asked exactly once. `exited` settles when
   * it has exited.
   */
  track(child: StoppableChild, exited: Promise<unknown>): void {
    this.check();
    const gone = exited.then(
      () => undefined,
      () => undefined,
    );
    this.#children.set(child, gone);
    void gone.then(() => this.#children.delete(child));
  }

  /** The signal handler: records the signal and stops every running child; resolves once they are gone. */
  interrupt(signal: NodeJS.Signals): Promise<void> {
    if (this.#signal !== undefined) {
      // A second signal: the person does not want to wait for a graceful stop.
      for (const child of this.#children.keys()) killGroup(child, 'SIGKILL');
      return Promise.all(this.#stopped).then(() => undefined);
    }
    this.#signal = signal;
    for (const [child, exited] of this.#children) this.#stopped.push(this.#stop(child, exited));
    return Promise.all(this.#stopped).then(() => undefined);
  }

  async #stop(child: StoppableChild, exited: Promise<void>): Promise<void> {
    // SIGINT for both: Playwright tears its workers' fixtures down on SIGINT, and dies at once on SIGTERM.
    child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.graceMs)));
    try {
      if ((await Promise.race([exited, late])) === 'late') {
        console.error(`integrity: the test run (pid ${child.pid}) did not stop within ${this.graceMs / 1000} s of SIGINT; killing its process group`);
        killGroup(child, 'SIGKILL');
        await exited;
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

function killGroup(child: StoppableChild, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already.
  }
}
