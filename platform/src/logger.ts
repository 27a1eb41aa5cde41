import { pino, type Logger } from 'pino';

export type { Logger };

/** One base logger per process; children carry service, tenant and request ids. */
export function createLogger(options: { level: string; service: string }): Logger {
  return pino({
    level: options.level,
    base: { service: options.service },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-tansu-context"]',
        '*.password',
        '*.accessToken',
        '*.refreshToken',
        'password',
        'secret',
      ],
      censor: '[redacted]',
    },
  });
}
