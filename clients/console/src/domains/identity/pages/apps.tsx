import { useState, type FormEvent } from 'react';
import { APPS, CREATE_APP } from '../operations.ts';
import { consoleClient } from '../../../shell/session.ts';
import { useQuery } from '../../../shell/use-query.ts';

/** The applications that sign the tenant's users in through its issuer: register one, see them all. */
export function AppsPage() {
  const { data, error, reload, setError } = useQuery(APPS);
  const [name, setName] = useState('');
  const [type, setType] = useState<'PUBLIC' | 'CONFIDENTIAL'>('PUBLIC');
  const [redirectUri, setRedirectUri] = useState('');
  const [secret, setSecret] = useState<{ clientId: string; secret: string | null } | null>(null);
  const create = (event: FormEvent) => {
    event.preventDefault();
    consoleClient()!
      .request(CREATE_APP, { input: { name: name.trim(), type, redirectUris: [redirectUri.trim()] } })
      .then(({ createClient }) => {
        setSecret({ clientId: createClient.client.clientId, secret: createClient.clientSecret });
        setName('');
        setRedirectUri('');
        reload();
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  };
  return (
    <section>
      <h2>Apps</h2>
      {error === null ? null : <p role="alert">{error}</p>}
      <form className="inline" onSubmit={create} aria-label="Register an app">
        <input name="name" placeholder="name" value={name} onChange={(e) => setName(e.target.value)} required />
        <select name="type" value={type} onChange={(e) => setType(e.target.value as 'PUBLIC' | 'CONFIDENTIAL')}>
          <option value="PUBLIC">public (browser, mobile: PKCE)</option>
          <option value="CONFIDENTIAL">confidential (server: a secret)</option>
        </select>
        <input name="redirectUri" type="url" placeholder="redirect URI" value={redirectUri} onChange={(e) => setRedirectUri(e.target.value)} required />
        <button type="submit">Register</button>
      </form>
      {secret === null ? null : (
        <p role="status">
          Client id <code data-testid="new-client-id">{secret.clientId}</code>
          {secret.secret === null ? null : (
            <>
              {' '}
              and secret <code>{secret.secret}</code> (shown this once)
            </>
          )}
        </p>
      )}
      {data === undefined ? (
        <p>Loading…</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Client id</th>
              <th>Type</th>
              <th>Redirect URIs</th>
            </tr>
          </thead>
          <tbody>
            {data.clients.map((app) => (
              <tr key={app.clientId} data-app={app.name}>
                <td>{app.name}</td>
                <td>
                  <code>{app.clientId}</code>
                </td>
                <td>{app.type}</td>
                <td>{app.redirectUris.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
