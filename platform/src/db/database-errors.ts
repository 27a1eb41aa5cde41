import {
  ForeignKeyConstraintViolationException,
  InvalidFieldNameException,
  NotNullConstraintViolationException,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import { TansuError, errors } from '../errors.ts';

/**
 * Values Postgres cannot store (NUL bytes, broken UTF-16, dates or numbers out of range,
 * absurdly nested data) fail in the driver or the server: the input is at fault, not us.
 */
const BAD_TEXT_CODES = new Set(['22P05', '22021', '08P01', '22P02', '22008', '22003', '54001']);

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Driver exceptions become catalogue errors here and nowhere else. */
export function mapDatabaseError(error: unknown): unknown {
  if (error instanceof TansuError) return error;
  const state = sqlState(error) ?? sqlState((error as { cause?: unknown } | null)?.cause);
  if (state !== undefined && BAD_TEXT_CODES.has(state))
    return errors.badRequest('Input contains a value that cannot be stored (such as a NUL character or a number or date out of range)');
  if (error instanceof UniqueConstraintViolationException) return errors.conflict('That resource already exists');
  if (error instanceof ForeignKeyConstraintViolationException) return errors.badRequest('A referenced resource does not exist');
  if (error instanceof NotNullConstraintViolationException) return errors.badRequest('A required value is missing');
  if (error instanceof InvalidFieldNameException) return errors.internal(error);
  return error;
}
