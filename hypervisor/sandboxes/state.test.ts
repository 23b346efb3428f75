import { describe, expect, it } from 'vitest';
import { sandboxStates, statusOf } from './state.ts';

describe("a sandbox's reported status", () => {
  // The contract has three statuses: only a sandbox that runs is running, only one given up on is failed.
  it('is running only when it runs, failed only when it failed, stopped in every state between', () => {
    expect(Object.fromEntries(sandboxStates.map((state) => [state, statusOf(state)]))).toEqual({
      starting: 'stopped',
      running: 'running',
      stopping: 'stopped',
      stopped: 'stopped',
      backoff: 'stopped',
      failed: 'failed',
    });
  });
});
