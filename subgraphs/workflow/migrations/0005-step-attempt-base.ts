import { Migration } from '@mikro-orm/migrations';

/**
 * A replayed run keeps counting attempts (history stays whole, job ids stay unique); the
 * retry budget of each pass counts from `attempt_base`.
 */
export class Migration0005StepAttemptBase extends Migration {
  override name = '0005-step-attempt-base';

  override up(): void {
    this.addSql(`alter table workflow.steps add column attempt_base int not null default 0`);
  }
}
