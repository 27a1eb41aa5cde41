import { useState, type FormEvent } from 'react';
import { END_SESSION, END_USER_SESSIONS, MFA_FACTORS, MY_SESSIONS, REMOVE_MFA_FACTOR } from '../operations.ts';
import { SessionsTable } from '../sessions-table.tsx';
import { QrCode } from '../../../shell/qr-code.tsx';
import { consoleClient } from '../../../shell/session.ts';
import { useSensitive } from '../../../shell/step-up.tsx';
import { useQuery } from '../../../shell/use-query.ts';

interface Enrollment {
  factorId: string;
  secret: string;
  uri: string;
}

/** The signed-in person's own security: second factors, setting up an authenticator app, recovery codes, sessions. */
export function AccountPage() {
  const { data, error, reload, setError } = useQuery(MFA_FACTORS);
  const sessions = useQuery(MY_SESSIONS);
  const sensitive = useSensitive();
  const [enrollment, setEnrollment] = useState<Enrollment | null>(null);
  const [code, setCode] = useState('');
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const fail = (e: unknown) => setError(e instanceof Error ? e.message : String(e));

  // Adding a factor beside an existing one needs a recent step-up.
  const start = () =>
    sensitive(() => consoleClient()!.auth.enrollTotp({ name: 'Authenticator app' }))
      .then((started) => {
        setEnrollment(started);
        setRecoveryCodes(null);
      })
      .catch(fail);
  const confirm = (event: FormEvent) => {
    event.preventDefault();
    consoleClient()!
      .auth.confirmTotp({ factorId: enrollment!.factorId, code: code.trim() })
      .then(({ recoveryCodes: codes }) => {
        setRecoveryCodes(codes);
        setEnrollment(null);
        setCode('');
        reload();
      })
      .catch(fail);
  };
  const remove = (id: string) =>
    sensitive(() => consoleClient()!.request(REMOVE_MFA_FACTOR, { id }))
      .then(reload)
      .catch(fail);

  const endOne = (id: string) => consoleClient()!.request(END_SESSION, { id }).then(sessions.reload).catch(fail);
  // Every session, this console's included: the console signs out with them.
  const endAll = () => {
    const me = sessions.data?.me;
    if (me == null || !window.confirm('Sign out everywhere, this console included?')) return;
    consoleClient()!
      .request(END_USER_SESSIONS, { userId: me.id })
      .then(() => consoleClient()!.auth.signOut())
      .then(() => window.location.assign('/console/'))
      .catch(fail);
  };

  return (
    <section>
      <h2>Account</h2>
      {error === null ? null : <p role="alert">{error}</p>}
      <h3>Second factors</h3>
      {data === undefined ? (
        <p>Loading…</p>
      ) : data.mfaFactors.length === 0 ? (
        <p>No second factor yet. Sensitive operations (rotating keys, deleting a tenant) need one.</p>
      ) : (
        <table aria-label="Second factors">
          <thead>
            <tr>
              <th>Kind</th>
              <th>Name</th>
              <th>Added</th>
              <th>Last used</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.mfaFactors.map((factor) => (
              <tr key={factor.id} data-factor={factor.kind}>
                <td>{factor.kind}</td>
                <td>{factor.name}</td>
                <td>{new Date(factor.createdAt).toLocaleString()}</td>
                <td>{factor.lastUsedAt === null ? 'never' : new Date(factor.lastUsedAt).toLocaleString()}</td>
                <td>
                  <button type="button" onClick={() => void remove(factor.id)}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {enrollment === null ? (
        <button type="button" onClick={() => void start()}>
          Set up an authenticator app
        </button>
      ) : (
        <form onSubmit={confirm} aria-label="Confirm the authenticator app" className="narrow-form">
          <p>Scan this code with your authenticator app, or type the key.</p>
          <QrCode text={enrollment.uri} label="Authenticator QR code" />
          <code data-testid="totp-secret">{enrollment.secret}</code>
          <label>
            Code shown by the app
            <input name="totp-code" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} required />
          </label>
          <button type="submit">Confirm</button>
        </form>
      )}
      {recoveryCodes === null ? null : (
        <div role="status">
          <p>Authenticator added. Keep these recovery codes somewhere safe; each works once, and they are shown only now.</p>
          <ul className="codes" data-testid="recovery-codes">
            {recoveryCodes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
        </div>
      )}
      <h3>Sessions</h3>
      {sessions.error === null ? null : <p role="alert">{sessions.error}</p>}
      {sessions.data?.me == null ? (
        <p>Loading…</p>
      ) : (
        <>
          <SessionsTable sessions={sessions.data.me.sessions} onEnd={endOne} label="My sessions" />
          <button type="button" data-action="end-all-sessions" onClick={endAll}>
            Sign out everywhere
          </button>
        </>
      )}
    </section>
  );
}
