import type { Writable } from 'node:stream';
import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** `json` for machines (production, log shippers); `pretty` for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-tansu-context"]',
  '*.password',
  '*.accessToken',
  '*.refreshToken',
  'password',
  'secret',
];

/**
 * One line per entry: time, level, service, message, then the entry's own fields. The
 * process fields (pid, hostname) say nothing at a terminal; errors keep their stack.
 */
function prettyStream(destination: number | Writable): DestinationStream {
  return pretty({
    destination,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    messageFormat: (log, messageKey) => {
      const message = typeof log[messageKey] === 'string' ? log[messageKey] : '';
      return typeof log.service === 'string' ? `${log.service}: ${message}` : message;
    },
    singleLine: true,
    // Colours only on our own terminal; a stream handed in (a file, a test) gets plain text.
    ...(typeof destination === 'number' ? {} : { colorize: false }),
  });
}

/** One base logger per process; children carry service, tenant and request ids. */
export function createLogger(options: { level: string; service: string; format?: LogFormat; destination?: Writable }): Logger {
  const settings = { level: options.level, base: { service: options.service }, redact: { paths: REDACT, censor: '[redacted]' } };
  if (options.format === 'pretty') return pino(settings, prettyStream(options.destination ?? 1));
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination);
}

/**
 * Node prints its process warnings (deprecations from libraries, experimental features)
 * straight to stderr; they go through the logger at debug level instead, so a terminal
 * shows only our own lines unless LOG_LEVEL=debug asks for more.
 */
export function logProcessWarnings(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => logger.debug({ warning: { name: warning.name, message: warning.message } }, 'node warning'));
}
