import { ConfigError } from '../env-values.ts';
import { checkDataDirs, DataDirError } from './data-dir.ts';
import { assertKeyless, KeylessViolationError } from './keyless.ts';
import { parseSettings, type SandboxSettings } from './settings.ts';

/** EX_CONFIG: a refused start, which restarting with the same environment cannot mend. */
export const refusedStartExitCode = 78;

/** Why the sandbox will not start with this environment: the JSON log line's event, the variables at fault, and the message for stderr. */
export interface StartRefusal {
  event: 'sandbox.keyless_violation' | 'sandbox.invalid_setting' | 'sandbox.data_dir_unwritable';
  variables?: readonly string[];
  message: string;
}

/**
 * The settings the sandbox starts with, or why it refuses to: a provider key or platform secret in
 * a managed sandbox's environment first (nothing else is read from an environment that holds one),
 * then an invalid setting, then an unusable data directory. Any other error is not a refusal and is thrown.
 */
export function settingsOrRefusal(env: NodeJS.ProcessEnv): { settings: SandboxSettings } | { refusal: StartRefusal } {
  try {
    assertKeyless(env);
    const settings = parseSettings(env);
    checkDataDirs(settings);
    return { settings };
  } catch (error) {
    if (error instanceof KeylessViolationError) return { refusal: { event: 'sandbox.keyless_violation', variables: error.variables, message: error.message } };
    if (error instanceof ConfigError) return { refusal: { event: 'sandbox.invalid_setting', variables: [error.variable], message: error.message } };
    if (error instanceof DataDirError) return { refusal: { event: 'sandbox.data_dir_unwritable', message: error.message } };
    throw error;
  }
}
