import { deployCommands, runDeploy, type DeployCommand } from './cli.ts';

/** npm run deploy -- switch [--closure STORE_PATH] | rollback | status, for the target GATE_TARGET names (deploy/cli.ts). */
const [command, ...rest] = process.argv.slice(2);
const closureAt = rest.indexOf('--closure');
const closure = closureAt >= 0 ? rest[closureAt + 1] : undefined;
if (!deployCommands.includes(command as DeployCommand) || (closureAt >= 0 && !closure?.startsWith('/nix/store/')) || rest.length !== (closureAt >= 0 ? 2 : 0)) {
  console.error(`usage: GATE_TARGET=<name> npm run deploy -- ${deployCommands.join('|')} [--closure /nix/store/…]`);
  process.exit(2);
}
try {
  const { transcriptFile } = await runDeploy(command as DeployCommand, { print: (line) => console.log(line), ...(closure ? { closure } : {}) });
  console.log(`deployment command transcript: ${transcriptFile}`);
} catch (error) {
  console.error(`deploy ${command} failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
