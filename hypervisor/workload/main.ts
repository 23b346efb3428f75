import { runSandboxMain } from './sandbox-main.ts';

// `node hypervisor/workload/main.ts` and the image's entrypoint; the process itself is in sandbox-main.ts.
await runSandboxMain(process.env);
