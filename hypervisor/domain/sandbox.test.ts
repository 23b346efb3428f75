import { describe, expect, it } from 'vitest';
import { routes } from './route.ts';
import { runtimeKinds } from './runtime-kind.ts';
import { sandboxId } from './sandbox.ts';

describe('the domain names', () => {
  it('a sandbox is named <user>:<role>', () => {
    expect(sandboxId({ userId: 'alice', role: 'dev' })).toBe('alice:dev');
    expect(sandboxId({ userId: 'bob', role: 'live' })).toBe('bob:live');
  });

  it('a user has the routes main (the default) and dev', () => {
    expect(routes).toEqual(['main', 'dev']);
  });

  it('a sandbox runs as a process (the fallback) or in podman', () => {
    expect(runtimeKinds).toEqual(['process', 'podman']);
  });
});
