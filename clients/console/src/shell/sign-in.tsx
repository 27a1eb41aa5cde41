import { useState, type FormEvent } from 'react';
import { startSignIn } from './session.ts';

/** Which tenant to sign in to; the tenant's own issuer asks for the password (and a second factor). */
export function SignInPage() {
  const [tenant, setTenant] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    startSignIn(tenant.trim()).catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  };
  return (
    <main className="narrow">
      <h1>Tansu console</h1>
      <form onSubmit={submit}>
        <label>
          Tenant
          <input name="tenant" value={tenant} onChange={(e) => setTenant(e.target.value)} placeholder="acme" required autoFocus />
        </label>
        <button type="submit">Sign in</button>
      </form>
      {error === null ? null : <p role="alert">{error}</p>}
    </main>
  );
}
