/** How a sandbox runs: a local process as the sandbox user, or a podman container. */
export const runtimeKinds = ['process', 'podman'] as const;
export type RuntimeKind = (typeof runtimeKinds)[number];
