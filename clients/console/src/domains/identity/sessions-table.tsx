import type { ResultOf } from '@tansu/client';
import type { MY_SESSIONS } from './operations.ts';

type Session = NonNullable<ResultOf<typeof MY_SESSIONS>['me']>['sessions'][number];

const when = (at: string | null) => (at === null ? 'never' : new Date(at).toLocaleString());

/** A user's sessions that can still be renewed, each with a button that ends it. */
export function SessionsTable({ sessions, onEnd, label }: { sessions: readonly Session[]; onEnd: (id: string) => void; label: string }) {
  if (sessions.length === 0) return <p>No live sessions.</p>;
  return (
    <table aria-label={label}>
      <thead>
        <tr>
          <th>Signed in</th>
          <th>How</th>
          <th>Through</th>
          <th>Last renewed</th>
          <th>Ends</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {sessions.map((s) => (
          <tr key={s.id} data-session={s.id} data-kind={s.kind}>
            <td>{when(s.startedAt)}</td>
            <td>{s.authMethods.join(', ')}</td>
            <td>{s.kind === 'ISSUER' ? `issuer (${s.clientId ?? 'app'})` : 'API'}</td>
            <td>{when(s.lastRefreshedAt)}</td>
            <td>{when(s.expiresAt)}</td>
            <td>
              <button type="button" data-action="end-session" onClick={() => onEnd(s.id)}>
                End
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
