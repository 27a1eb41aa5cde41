import { TansuError, isStepUpRequired, type TansuClient } from '@tansu/client';
import { stringOption, type CommandContext } from './context.ts';
import { ask } from './prompt.ts';

/**
 * Runs a sensitive operation (deleting a tenant, rotating keys). When the platform answers
 * MFA_REQUIRED for want of a recent second factor, proves one with `stepUp` (the `--code`
 * option, else a prompt on a terminal) and runs it once more. The client keeps the stepped-up
 * session in the profile, so the next sensitive operation within ten minutes needs no code.
 */
export async function withStepUp<T>(ctx: CommandContext, client: TansuClient, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (!isStepUpRequired(error)) throw error;
    const code = stringOption(ctx, 'code') ?? (process.stdin.isTTY === true ? await ask('Code from your authenticator (or a recovery code): ') : undefined);
    if (code === undefined)
      throw new TansuError('MFA_REQUIRED', `${error.message} (pass --code CODE from your authenticator)`, { extensions: { ...error.extensions } });
    await client.auth.stepUp(code);
    return operation();
  }
}
