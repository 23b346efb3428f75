import { runCli } from './cli/dispatch.ts';

/** `node hypervisor/main.ts [command]` (npm run hypervisor): serves by default; see hypervisor/cli/. */
process.exit(await runCli(process.argv.slice(2)));
