import { Migration } from '@mikro-orm/migrations';

/** WebAuthn challenges (single-use, minutes long) and the transports a passkey reported. */
export class Migration0016Passkeys extends Migration {
  override name = '0016-passkeys';

  override up(): void {
    this.addSql(`create table identity.webauthn_challenges (
      id uuid primary key,
      tenant_id uuid not null references platform.tenants(id) on delete cascade,
      user_id uuid references identity.users(id) on delete cascade,
      purpose text not null check (purpose in ('register', 'authenticate')),
      challenge text not null,
      expires_at timestamptz not null,
      used_at timestamptz,
      created_at timestamptz not null default now()
    )`);
    this.addSql(`alter table identity.webauthn_challenges enable row level security`);
    this.addSql(`create policy tenant_isolation on identity.webauthn_challenges
      using (tenant_id = platform.current_tenant())
      with check (tenant_id = platform.current_tenant())`);
    this.addSql(`alter table identity.mfa_factors add column transports text[]`);
  }
}
