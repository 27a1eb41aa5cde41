import { Migration } from '@mikro-orm/migrations';

/**
 * Signing keys rotate: a `next` key is published before it signs, the `active` key signs,
 * and `retired` keys keep verifying until `retired_at` plus the grace period.
 */
export class Migration0009KeyRotation extends Migration {
  override name = '0009-key-rotation';

  override up(): void {
    this.addSql(`alter table platform.signing_keys drop constraint signing_keys_status_check`);
    this.addSql(`alter table platform.signing_keys add constraint signing_keys_status_check check (status in ('next', 'active', 'retired'))`);
    this.addSql(`alter table platform.signing_keys add column retired_at timestamptz`);
  }
}
