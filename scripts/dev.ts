import { ConfigError, loadConfig } from '@tansu/platform/config';
import { stopOnSignals } from '@tansu/platform/lifecycle';
import { createLogger } from '@tansu/platform/logger';
import { ensureDevSecret } from './stack/dev-secret.ts';
import { startStack } from './stack/start-stack.ts';

// `npm run dev`: the whole platform on embedded defaults, or on DATABASE_URL / REDIS_URL.
try {
  const env = { ...process.env };
  const preliminary = loadConfig(env);
  if (env.TANSU_SECRET === undefined) env.TANSU_SECRET = await ensureDevSecret(preliminary.dataDir);
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel, service: 'tansu' });
  const stack = await startStack(config, logger);
  stopOnSignals(stack.stop, logger);
  const lines = ['', `GraphQL endpoint: ${stack.graphqlUrl}`];
  if (config.playground) lines.push(`Playground: ${stack.graphqlUrl} (open it in a browser)`);
  if (stack.admin.generatedPassword !== undefined) {
    lines.push(`Platform admin created: ${stack.admin.email} / ${stack.admin.generatedPassword}`, '  (shown once; set TANSU_ADMIN_EMAIL and TANSU_ADMIN_PASSWORD to choose them)');
  }
  lines.push('Press Ctrl-C to stop.', '');
  console.log(lines.join('\n'));
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `Tansu did not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
