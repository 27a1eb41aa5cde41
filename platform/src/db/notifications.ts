import pg from 'pg';
import type { Logger } from '../logger.ts';

export const CHANNELS = {
  /** A transaction committed outbox rows. */
  outbox: 'tansu_outbox',
  /** A transaction gave the workflow workers work: steps became ready, or a tenant's slot came free. */
  steps: 'tansu_steps',
} as const;

/**
 * One connection that LISTENs on Postgres channels and calls the handler of each notified
 * channel. Notifications only shorten waits: every consumer still polls, so a lost
 * connection (reconnected after a pause) costs latency, never work.
 */
export function listenForNotifications(options: { url: string; handlers: Record<string, () => void>; logger: Logger }): { stop(): Promise<void> } {
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  async function connect(): Promise<void> {
    if (stopped) return;
    const next = new pg.Client({ connectionString: options.url });
    next.on('notification', (message) => options.handlers[message.channel]?.());
    next.on('error', (error) => {
      options.logger.warn({ err: error }, 'notification connection lost; reconnecting');
      void next.end().catch(() => undefined);
      if (client === next) client = undefined;
      schedule();
    });
    try {
      await next.connect();
      for (const channel of Object.keys(options.handlers)) await next.query(`listen ${pg.escapeIdentifier(channel)}`);
      client = next;
      if (stopped) await next.end();
    } catch (error) {
      options.logger.warn({ err: error }, 'could not listen for notifications; retrying');
      void next.end().catch(() => undefined);
      schedule();
    }
  }

  function schedule(): void {
    if (stopped || retry !== undefined) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, 1_000);
    retry.unref();
  }

  void connect();
  return {
    async stop() {
      stopped = true;
      if (retry !== undefined) clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
