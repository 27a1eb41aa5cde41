import { Migration } from '@mikro-orm/migrations';

/**
 * Committed outbox rows announce themselves (once per transaction), so the relay moves them
 * at once instead of at its next poll.
 */
export class Migration0004Notifications extends Migration {
  override name = '0004-notifications';

  override up(): void {
    this.addSql(`create or replace function platform.notify_outbox() returns trigger language plpgsql as $$
      begin
        perform pg_notify('tansu_outbox', '');
        return null;
      end $$`);
    this.addSql(`create trigger outbox_notify after insert on platform.outbox for each statement execute function platform.notify_outbox()`);
  }
}
