import { Migration } from '@mikro-orm/migrations';

/** The registry's checks are read per variant, newest first, a page at a time. */
export class Migration0018RegistryChecksByVariant extends Migration {
  override name = '0018-registry-checks-by-variant';

  override up(): void {
    this.addSql(`create index checks_latest on registry.checks (variant, id desc)`);
  }
}
