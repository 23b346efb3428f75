import { describe, expect, it } from 'vitest';
import { transitionLevel, type TransitionEvent } from './transitions.ts';

describe('the log level of a lifecycle transition', () => {
  it('is error for a failed sandbox, warn for a crash or a removed stray, info for the rest of the lifecycle', () => {
    const events: TransitionEvent[] = ['sandbox.start_requested', 'sandbox.ready', 'sandbox.stop', 'sandbox.crash', 'sandbox.restart', 'sandbox.adopt', 'sandbox.failed', 'sandbox.stray_removed'];
    expect(Object.fromEntries(events.map((event) => [event, transitionLevel(event)]))).toEqual({
      'sandbox.start_requested': 'info',
      'sandbox.ready': 'info',
      'sandbox.stop': 'info',
      'sandbox.crash': 'warn',
      'sandbox.restart': 'info',
      'sandbox.adopt': 'info',
      'sandbox.failed': 'error',
      'sandbox.stray_removed': 'warn',
    });
  });
});
