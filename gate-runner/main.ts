import { runGateCommand } from './gate-main.ts';
import { gateErrorLine, gateExitCode } from './gate-exit-code.ts';

// `npm run gate -- ...`: the commands are in gate-main.ts; here only the exit code and a refusal's one line.
try {
  process.exitCode = await runGateCommand(process.argv.slice(2));
} catch (error) {
  const exitCode = gateExitCode(error);
  if (exitCode === undefined) throw error;
  console.error(gateErrorLine(error as Error));
  process.exitCode = exitCode;
}
