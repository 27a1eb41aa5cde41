import { useState } from 'react';
import { ROTATE_SIGNING_KEY, SIGNING_KEYS } from '../operations.ts';
import { consoleClient } from '../../../shell/session.ts';
import { useSensitive } from '../../../shell/step-up.tsx';
import { useQuery } from '../../../shell/use-query.ts';

const when = (at: string | null) => (at === null ? '' : new Date(at).toLocaleString());

/** The tenant's token-signing keys (owners and admins): which signs, which is published next, which still verify; rotate. */
export function SigningKeysPage() {
  const { data, error, reload, setError } = useQuery(SIGNING_KEYS);
  const sensitive = useSensitive();
  const [notice, setNotice] = useState<string | null>(null);
  const rotate = () => {
    if (!window.confirm('Rotate the signing key? The next key starts signing; tokens signed by the current one keep verifying for a day.')) return;
    sensitive(() => consoleClient()!.request(ROTATE_SIGNING_KEY))
      .then(({ rotateSigningKey }) => {
        setNotice(`Now signing with ${rotateSigningKey.activeKid}; ${rotateSigningKey.nextKid} is published as the next key.`);
        setError(null);
        reload();
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  };
  return (
    <section>
      <h2>Signing keys</h2>
      {error === null ? null : <p role="alert">{error}</p>}
      {notice === null ? null : <p role="status">{notice}</p>}
      <p>Apps verify the tenant's tokens with its published key set, which always holds the next key before it signs.</p>
      <button type="button" data-action="rotate" onClick={rotate}>
        Rotate now
      </button>
      {data === undefined ? (
        <p>Loading…</p>
      ) : (
        <table aria-label="Signing keys">
          <thead>
            <tr>
              <th>Key id</th>
              <th>Algorithm</th>
              <th>Status</th>
              <th>Created</th>
              <th>Retired</th>
              <th>Verifies until</th>
            </tr>
          </thead>
          <tbody>
            {data.signingKeys.map((key) => (
              <tr key={key.kid} data-kid={key.kid} data-key-status={key.status}>
                <td>
                  <code>{key.kid}</code>
                </td>
                <td>{key.algorithm}</td>
                <td>{key.status}</td>
                <td>{when(key.createdAt)}</td>
                <td>{when(key.retiredAt)}</td>
                <td>{when(key.expiresAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
