import { ConfigError, loadConfig } from '@tansu/platform/config';
import { startupBanner, stopOnSignals } from '@tansu/platform/lifecycle';
import { createLogger, logProcessWarnings } from '@tansu/platform/logger';
import { SUBGRAPHS } from '@tansu/supergraph/subgraphs';
import { ensureDevSecret } from './stack/dev-secret.ts';
import { startStack, type Stack } from './stack/start-stack.ts';

// `npm run dev`: the whole platform on embedded defaults, or on DATABASE_URL / REDIS_URL.
try {
  const env = { ...process.env };
  const preliminary = loadConfig(env, { subgraphs: SUBGRAPHS });
  if (env.TANSU_SECRET === undefined) env.TANSU_SECRET = await ensureDevSecret(preliminary.dataDir);
  const config = loadConfig(env, { subgraphs: SUBGRAPHS });
  // A person reads this terminal: one readable line per entry. Production stays JSON.
  const logger = createLogger({ level: config.logLevel, service: 'tansu', format: config.mode === 'development' ? 'pretty' : 'json' });
  logProcessWarnings(logger);
  // Ctrl-C while starting ends at once: the embedded servers stop with this process.
  let stack: Stack | undefined;
  stopOnSignals(async () => stack?.stop(), logger);
  stack = await startStack(config, logger);
  console.log(startupBanner({ publicUrl: config.publicUrl, routerUrl: stack.routerUrl, playground: config.playground, ...stack.notes }));
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `Tansu did not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
