import { startHypervisor } from '../app.ts';
import { ConfigError, loadConfig, type HypervisorConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import type { Command } from './command.ts';

/**
 * Serves until SIGTERM or SIGINT, then stops accepting, leaves the sandboxes running as recorded
 * (the next start adopts them) and exits 0. A bad configuration exits 2, a failed start 1.
 */
export const serve: Command = {
  summary: 'run the hypervisor in the foreground (the default)',
  async run(args) {
    const log = createLogger('hypervisor');
    if (args.length) {
      console.error(`hypervisor serve takes no arguments (got ${args.join(' ')}); configure it with environment variables`);
      return 2;
    }
    let config: HypervisorConfig;
    try {
      config = loadConfig(process.env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      log.fatal({ event: 'hypervisor.config_error', variable: error.variable, error: error.message }, 'invalid configuration');
      console.error(`hypervisor: invalid configuration: ${error.message}`);
      return 2;
    }
    let hypervisor;
    try {
      hypervisor = await startHypervisor(config, { log });
    } catch (error) {
      log.fatal({ event: 'hypervisor.start_failed', error: (error as Error).message }, 'could not start');
      console.error(`hypervisor: could not start: ${(error as Error).message}`);
      return 1;
    }
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    log.info({ event: 'hypervisor.stopping', signal }, 'stopping; sandboxes keep running as recorded');
    await hypervisor.close();
    log.info({ event: 'hypervisor.stopped', signal }, 'stopped');
    return 0;
  },
};
