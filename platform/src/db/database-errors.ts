import {
  ForeignKeyConstraintViolationException,
  InvalidFieldNameException,
  NotNullConstraintViolationException,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import { TansuError, errors } from '../errors.ts';

/** Driver exceptions become catalogue errors here and nowhere else. */
export function mapDatabaseError(error: unknown): unknown {
  if (error instanceof TansuError) return error;
  if (error instanceof UniqueConstraintViolationException) return errors.conflict('That resource already exists');
  if (error instanceof ForeignKeyConstraintViolationException) return errors.badRequest('A referenced resource does not exist');
  if (error instanceof NotNullConstraintViolationException) return errors.badRequest('A required value is missing');
  if (error instanceof InvalidFieldNameException) return errors.internal(error);
  return error;
}
