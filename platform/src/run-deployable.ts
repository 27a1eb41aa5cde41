import { loadConfig, type SubgraphPlacement } from './config.ts';
import { failStartup, stopOnSignals } from './lifecycle.ts';
import { createLogger } from './logger.ts';
import type { StartService } from './service.ts';

/**
 * The whole of a deployable's `main.ts`: read the configuration, start, stop on signals. A
 * failed start ends the process with one readable line.
 */
export async function runDeployable(name: string, start: StartService, options: { subgraphs?: readonly SubgraphPlacement[] } = {}): Promise<void> {
  try {
    const config = loadConfig(process.env, options);
    const logger = createLogger({ level: config.logLevel, service: name });
    const service = await start({ config, logger });
    logger.info({ url: service.url }, `${name} started`);
    stopOnSignals(() => service.stop(), logger);
  } catch (error) {
    failStartup(error);
  }
}
