import nodemailer from 'nodemailer';
import { TansuError } from '../errors.ts';
import type { Logger } from '../logger.ts';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  /** Hands the message to the transport; a refused or unreachable server is `MAIL_UNAVAILABLE`. */
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/**
 * Account emails over SMTP (`smtp://user:pass@host:587`, `smtps://…:465`). Without a URL the
 * message is written to the log instead, so a laptop needs no mail server to try every flow.
 */
export function createMailer(options: { smtpUrl: string | undefined; from: string; logger: Logger }): Mailer {
  const { logger } = options;
  if (options.smtpUrl === undefined) {
    return {
      async send(message) {
        logger.info({ mail: { to: message.to, subject: message.subject } }, `mail not sent (TANSU_SMTP_URL is unset):\n${message.text}`);
      },
      close() {},
    };
  }
  const transport = nodemailer.createTransport(options.smtpUrl);
  return {
    async send(message) {
      try {
        await transport.sendMail({ from: options.from, to: message.to, subject: message.subject, text: message.text, html: message.html });
      } catch (error) {
        logger.error({ err: error, to: message.to }, 'mail delivery failed');
        throw new TansuError('MAIL_UNAVAILABLE', 'The email could not be sent; try again later', { cause: error });
      }
    },
    close() {
      transport.close();
    },
  };
}
