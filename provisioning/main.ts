import { createInterface } from 'node:readline/promises';
import { provisioningCommands, runProvisioning, type ProvisioningCommand } from './cli.ts';
import type { ConfirmPlan } from './provision.ts';

/**
 * npm run provision -- plan|apply|destroy [--yes], for the target named by GATE_TARGET
 * (provisioning/cli.ts). On a terminal, apply asks before changing anything unless --yes is given.
 */
const [command, ...flags] = process.argv.slice(2);
if (!provisioningCommands.includes(command as ProvisioningCommand) || flags.some((f) => f !== '--yes')) {
  console.error(`usage: GATE_TARGET=<name> npm run provision -- ${provisioningCommands.join('|')} [--yes]`);
  process.exit(2);
}
const ask: ConfirmPlan = async () => {
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await prompt.question('apply these changes? (yes/no) ')).trim());
  } finally {
    prompt.close();
  }
};
try {
  const confirm = process.stdin.isTTY && !flags.includes('--yes') ? ask : undefined;
  const { transcript, transcriptFile } = await runProvisioning(command as ProvisioningCommand, { confirm });
  console.log(`\n${transcript.text()}\ntranscript: ${transcriptFile}`);
} catch (error) {
  console.error(`provision ${command} failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
