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
        // A permanent refusal of the recipient (5xx on the envelope) is about the address, not our mail path.
        const refusedAddress =
          (error as { code?: unknown }).code === 'EENVELOPE' && Math.floor(Number((error as { responseCode?: unknown }).responseCode) / 100) === 5;
        if (refusedAddress) {
          logger.warn({ err: error, to: message.to }, 'mail server refused the recipient');
          throw new TansuError('MAIL_UNAVAILABLE', 'The mail server refused this address; check it, or use another', { cause: error });
        }
        logger.error({ err: error, to: message.to }, 'mail delivery failed');
        throw new TansuError('MAIL_UNAVAILABLE', 'The email could not be sent; try again later', { cause: error });
      }
    },
    close() {
      transport.close();
    },
  };
}
