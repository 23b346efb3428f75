/**
 * The import graph's rules (`npm run lint` checks them, so `npm test` does): no cycles; the
 * ground floor imports nothing above it; nothing imports upward into app composition; a request
 * walks forward (the proxy asks its resolver, never the sandbox manager or routing).
 */
const tests = '(\\.(test|spec)\\.ts$|/testing/|^hypervisor/e2e/)';
// Modules every part may import; they import only each other.
const groundFloor = '^hypervisor/(domain/|error-message\\.ts$|version\\.ts$|keyed-lock\\.ts$|env-values\\.ts$|paths\\.ts$|log\\.ts$|metrics-registry\\.ts$|config[a-z-]*\\.ts$|store/)';
// Where the parts are put together; only the entry points (and the harness) import these.
const composition = '^hypervisor/(app|gateway|sandbox-targets)\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: move what both sides need to a module below them (hypervisor/domain/, context.ts, metrics-registry.ts).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'ground-floor-imports-nothing-above',
      comment: 'The ground floor (domain types, settings, log, store, metrics registry) imports only the ground floor.',
      severity: 'error',
      from: { path: groundFloor, pathNot: tests },
      to: { path: '^hypervisor/', pathNot: groundFloor },
    },
    {
      name: 'nothing-imports-app-composition',
      comment: 'app.ts, gateway.ts and sandbox-targets.ts compose the parts; a part that imports them points upward. Pass what it needs in (context.ts).',
      severity: 'error',
      from: { path: '^hypervisor/', pathNot: `${composition}|^hypervisor/main\\.ts$|^hypervisor/cli/serve\\.ts$|${tests}` },
      to: { path: composition },
    },
    {
      name: 'proxy-asks-its-resolver',
      comment: 'The proxy learns where a request goes from its TargetResolver, built in sandbox-targets.ts; it imports neither the sandbox manager nor routing.',
      severity: 'error',
      from: { path: '^hypervisor/proxy/', pathNot: tests },
      to: { path: '^hypervisor/(sandboxes|routing)/' },
    },
    {
      name: 'sandboxes-below-the-edges',
      comment: 'The sandbox manager knows nothing of HTTP, the proxy, routing or auth; they call it.',
      severity: 'error',
      from: { path: '^hypervisor/sandboxes/', pathNot: tests },
      to: { path: '^hypervisor/(http|proxy|routing|auth)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    // Type-only imports count: a cycle through types is still a cycle for a reader.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
