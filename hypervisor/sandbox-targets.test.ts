import { describe, expect, it } from 'vitest';
import type { Role } from './domain/role.ts';
import type { SandboxKey } from './domain/sandbox.ts';
import { fixedRoles, sandboxTargets } from './sandbox-targets.ts';

/** The sandbox manager's three answers, as plain records: which sandboxes run, and what was asked. */
function sandboxesWith(running: Record<string, number>, startedPort = 4100) {
  const asked = { started: [] as SandboxKey[], touched: [] as SandboxKey[] };
  return {
    asked,
    sandboxes: {
      runningPort: (key: SandboxKey) => running[`${key.userId}:${key.role}`],
      ensureRunning: async (key: SandboxKey) => {
        asked.started.push(key);
        return { port: startedPort };
      },
      touch: (key: SandboxKey) => void asked.touched.push(key),
    },
  };
}

describe("the proxy's targets", () => {
  it('without route pointers, main is the live sandbox and dev the dev sandbox', () => {
    expect([fixedRoles('u', 'main'), fixedRoles('u', 'dev')]).toEqual(['live', 'dev']);
    expect([sandboxTargets(sandboxesWith({}).sandboxes).roleOf('u', 'main'), sandboxTargets(sandboxesWith({}).sandboxes).roleOf('u', 'dev')]).toEqual(['live', 'dev']);
  });

  it("answers a running sandbox's port at once, without starting anything", () => {
    const { sandboxes, asked } = sandboxesWith({ 'alice:live': 4001, 'alice:dev': 4002 });
    const targets = sandboxTargets(sandboxes);
    expect(targets.target('alice', 'main')).toEqual({ port: 4001, role: 'live' });
    expect(targets.target('alice', 'dev')).toEqual({ port: 4002, role: 'dev' });
    expect(asked.started).toEqual([]);
  });

  it('starts a sandbox that is not running, the one its route points to, and answers its port', async () => {
    const { sandboxes, asked } = sandboxesWith({ 'bob:live': 4001 }, 4200);
    const pointedToDev = (_userId: string, route: string): Role => (route === 'main' ? 'dev' : 'live');
    const target = sandboxTargets(sandboxes, pointedToDev).target('bob', 'main');
    expect(target).toBeInstanceOf(Promise);
    expect(await target).toEqual({ port: 4200, role: 'dev' });
    expect(asked.started).toEqual([{ userId: 'bob', role: 'dev' }]);
  });

  it('records WebSocket activity on the sandbox of that user and role', () => {
    const { sandboxes, asked } = sandboxesWith({});
    sandboxTargets(sandboxes).touch('carol', 'dev');
    expect(asked.touched).toEqual([{ userId: 'carol', role: 'dev' }]);
  });
});
