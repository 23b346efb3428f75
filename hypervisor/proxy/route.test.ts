import { describe, expect, it } from 'vitest';
import { routePath } from './route.ts';

describe('routePath', () => {
  it.each([
    ['/', 'main', '/'],
    ['/conductor/runs?limit=2', 'main', '/conductor/runs?limit=2'],
    ['/desktop.css', 'main', '/desktop.css'],
    ['/dev/', 'dev', '/'],
    ['/dev/ws?x=1', 'dev', '/ws?x=1'],
    ['/devices', 'main', '/devices'],
    ['/dev/../admin', 'main', '/admin'],
    ['/dev/%2e%2e/x', 'main', '/x'],
    ['/a/./b', 'main', '/a/b'],
    ['/./dev/x', 'dev', '/x'],
    ['/dev/./x', 'dev', '/x'],
    // A lone dot segment right before the query: plain characters otherwise, so only the dot check sends it to be normalised.
    ['/dev/.?q', 'dev', '/?q'],
    ['/a/.?b', 'main', '/a/?b'],
    ['/x\\..\\dev\\y', 'dev', '/y'],
    ['//evil.example/dev/x', 'dev', '/x'],
    // The same without a dot in the host: still a network-path reference, not a path starting with an empty segment.
    ['//localhost/dev/x', 'dev', '/x'],
    ['http://other.example:1/dev/z?q', 'dev', '/z?q'],
  ])('routes %s to %s as %s', (target, route, path) => {
    expect(routePath(target)).toEqual({ kind: 'route', route, path });
  });

  it('redirects /dev to /dev/, keeping the query', () => {
    expect(routePath('/dev?a=1')).toEqual({ kind: 'redirect', location: '/dev/?a=1' });
  });

  it('agrees with a URL the server already parsed', () => {
    expect(routePath(new URL('/dev/a/../b?c', 'http://h.invalid'))).toEqual({ kind: 'route', route: 'dev', path: '/b?c' });
  });
});
