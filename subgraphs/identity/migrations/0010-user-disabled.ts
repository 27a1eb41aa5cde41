import { Migration } from '@mikro-orm/migrations';

/** An owner or admin can disable a user: no sign-in, no refresh, until enabled again. */
export class Migration0010UserDisabled extends Migration {
  override name = '0010-user-disabled';

  override up(): void {
    this.addSql(`alter table identity.users add column disabled_at timestamptz`);
  }
}
