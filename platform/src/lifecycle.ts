import type { Logger } from './logger.ts';

/** Runs `stop` once on SIGINT/SIGTERM, then exits; a second signal exits at once. */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'stopping');
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Start-up failures end the process with one readable line, not a stack dump. */
export function failStartup(error: unknown): never {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}

/** A deployable's server: listen, log the port, and on a signal close it and then the rest. */
export async function serveUntilSignalled(options: {
  name: string;
  server: { listen(port: number, host: string): Promise<number>; close(): Promise<void> };
  port: number;
  host: string;
  logger: Logger;
  alsoClose: (() => Promise<void>)[];
}): Promise<void> {
  const port = await options.server.listen(options.port, options.host);
  options.logger.info({ port }, `${options.name} listening`);
  stopOnSignals(async () => {
    await options.server.close();
    for (const close of options.alsoClose) await close();
  }, options.logger);
}
