import type { SubgraphAddress, TansuConfig } from './config.ts';
import type { StartupNotes } from './lifecycle.ts';
import type { Logger } from './logger.ts';

/** What every deployable's start function is given; its `main.ts` and the dev stack pass the same. */
export interface StartOptions {
  config: Readonly<TansuConfig>;
  logger: Logger;
}

/** A started deployable. */
export interface StartedService {
  /** Where it serves HTTP, for this machine (`http://127.0.0.1:port` when bound to every interface). */
  url: string;
  /** What the person who started it should be told (the startup banner). */
  notes?: StartupNotes;
  /** Stops what it started, last started first. */
  stop(): Promise<void>;
}

export type StartService = (options: StartOptions) => Promise<StartedService>;

/** Where the configuration places a subgraph; its start function cannot run without it. */
export function subgraphAddress(config: Readonly<TansuConfig>, name: string): SubgraphAddress {
  const address = config.subgraphs[name];
  if (address === undefined) throw new Error(`The configuration does not place the ${name} subgraph: load it with the list of subgraphs`);
  return address;
}

/** The URL of a listening server for callers on this machine. */
export function localUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${reachable}:${port}`;
}

/**
 * Collects what a start function opens so that one call undoes it, in reverse: on a failed
 * start (then rethrows) or at stop. A stop step that fails is logged and the rest still run.
 */
export function createStopList(logger: Logger) {
  const steps: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const step of steps.splice(0).reverse()) await step().catch((error: unknown) => logger.warn({ err: error }, 'stop step failed'));
  };
  return {
    add(step: () => Promise<void> | void): void {
      steps.push(async () => step());
    },
    stopAll,
    /** Runs `start`; when it throws, stops what it had opened and rethrows. */
    async guard<T>(start: () => Promise<T>): Promise<T> {
      try {
        return await start();
      } catch (error) {
        await stopAll();
        throw error;
      }
    },
  };
}
