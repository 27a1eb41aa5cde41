import { Migration } from '@mikro-orm/migrations';

/**
 * A run remembers the request that started it (its id and W3C trace context), so the jobs of
 * its steps carry them and a worker's log lines join that request's.
 */
export class Migration0019RunRequestContext extends Migration {
  override name = '0019-run-request-context';

  override up(): void {
    this.addSql(`alter table workflow.runs add column request_id text, add column traceparent text`);
  }
}
