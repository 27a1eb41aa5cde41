import { useState, type FormEvent } from 'react';
import { ADD_IDENTITY_PROVIDER, IDENTITY_PROVIDERS, REMOVE_IDENTITY_PROVIDER } from '../operations.ts';
import { consoleClient } from '../../../shell/session.ts';
import { useSensitive } from '../../../shell/step-up.tsx';
import { useQuery } from '../../../shell/use-query.ts';

const EMPTY = { slug: '', name: '', issuer: '', clientId: '', clientSecret: '', scopes: '' };

/** External OpenID providers the tenant's users may sign in with ("Continue with …"); owners add and remove them. */
export function IdentityProvidersPage() {
  const { data, error, reload, setError } = useQuery(IDENTITY_PROVIDERS);
  const sensitive = useSensitive();
  const [form, setForm] = useState(EMPTY);
  const [notice, setNotice] = useState<string | null>(null);
  const fail = (e: unknown) => setError(e instanceof Error ? e.message : String(e));
  const field = (name: keyof typeof EMPTY) => ({
    name,
    value: form[name],
    onChange: (e: { target: { value: string } }) => setForm({ ...form, [name]: e.target.value }),
  });

  const add = (event: FormEvent) => {
    event.preventDefault();
    const input = { ...form, scopes: form.scopes.trim() === '' ? undefined : form.scopes.trim() };
    sensitive(() => consoleClient()!.request(ADD_IDENTITY_PROVIDER, { input }))
      .then(({ addIdentityProvider }) => {
        setNotice(`Added ${addIdentityProvider.slug}: register ${addIdentityProvider.redirectUri} as the redirect URI at the provider.`);
        setForm(EMPTY);
        setError(null);
        reload();
      })
      .catch(fail);
  };
  const remove = (slug: string) => {
    if (!window.confirm(`Remove ${slug}? Its users can no longer sign in with it.`)) return;
    sensitive(() => consoleClient()!.request(REMOVE_IDENTITY_PROVIDER, { slug }))
      .then(reload)
      .catch(fail);
  };

  return (
    <section>
      <h2>Identity providers</h2>
      {error === null ? null : <p role="alert">{error}</p>}
      {notice === null ? null : <p role="status">{notice}</p>}
      {data === undefined ? (
        <p>Loading…</p>
      ) : data.identityProviders.length === 0 ? (
        <p>None yet: users sign in with a password or a passkey.</p>
      ) : (
        <table aria-label="Identity providers">
          <thead>
            <tr>
              <th>Slug</th>
              <th>Name</th>
              <th>Issuer</th>
              <th>Client id</th>
              <th>Scopes</th>
              <th>Redirect URI</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.identityProviders.map((p) => (
              <tr key={p.slug} data-provider={p.slug}>
                <td>{p.slug}</td>
                <td>{p.name}</td>
                <td>{p.issuer}</td>
                <td>{p.clientId}</td>
                <td>{p.scopes}</td>
                <td>
                  <code>{p.redirectUri}</code>
                </td>
                <td>
                  <button type="button" onClick={() => remove(p.slug)}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Add a provider</h3>
      <form onSubmit={add} aria-label="Add an identity provider" className="narrow-form">
        <label>
          Slug (used in URLs)
          <input {...field('slug')} required pattern="[a-z][a-z0-9-]*" />
        </label>
        <label>
          Name on the sign-in page
          <input {...field('name')} required />
        </label>
        <label>
          Issuer URL
          <input {...field('issuer')} type="url" required />
        </label>
        <label>
          Client id
          <input {...field('clientId')} required />
        </label>
        <label>
          Client secret (stored encrypted, never shown again)
          <input {...field('clientSecret')} type="password" required />
        </label>
        <label>
          Scopes (default: openid email profile)
          <input {...field('scopes')} />
        </label>
        <button type="submit">Add provider</button>
      </form>
    </section>
  );
}
