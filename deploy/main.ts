import { deployCommands, runDeploy, type DeployCommand } from './cli.ts';

/** npm run deploy -- switch [--closure STORE_PATH] | rollback [--generation N] | status, for the target GATE_TARGET names (deploy/cli.ts). */
const [command, ...rest] = process.argv.slice(2);
const usage = `usage: GATE_TARGET=<name> npm run deploy -- ${deployCommands.join('|')} [--closure /nix/store/…] (switch) [--generation N] (rollback)`;
const option = (name: string): { given: boolean; value: string | undefined } => {
  const at = rest.indexOf(name);
  return { given: at >= 0, value: at >= 0 ? rest[at + 1] : undefined };
};
const closure = option('--closure');
const generation = option('--generation');
const valid =
  deployCommands.includes(command as DeployCommand) &&
  (!closure.given || (command === 'switch' && closure.value?.startsWith('/nix/store/'))) &&
  (!generation.given || (command === 'rollback' && /^[1-9]\d*$/.test(generation.value ?? ''))) &&
  rest.length === (closure.given ? 2 : 0) + (generation.given ? 2 : 0);
if (!valid) {
  console.error(generation.given && !/^[1-9]\d*$/.test(generation.value ?? '') ? `--generation "${generation.value ?? ''}" is not a generation number (1, 2, …; see npm run deploy -- status)\n${usage}` : usage);
  process.exit(2);
}
try {
  const { transcriptFile } = await runDeploy(command as DeployCommand, { print: (line) => console.log(line), ...(closure.value ? { closure: closure.value } : {}), ...(generation.value ? { generation: Number(generation.value) } : {}) });
  console.log(`deployment command transcript: ${transcriptFile}`);
} catch (error) {
  console.error(`deploy ${command} failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
