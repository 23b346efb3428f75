/**
 * The three flakes, each in its own directory of this checkout (nix/README.md): the one list the
 * local builds (nix/build.ts) and the CI job summary (nix/ci/job-summary.ts) share. No imports, so
 * the job summary still runs on a bare Node without npm install.
 */
export const flakeOutputs = ['desktop', 'sandbox', 'hypervisor'] as const;
export type FlakeOutput = (typeof flakeOutputs)[number];
export const flakeDirs: Record<FlakeOutput, string> = { hypervisor: 'hypervisor', sandbox: 'nix/sandbox', desktop: 'nix/desktop' };
