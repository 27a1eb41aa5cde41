import { END_SESSION, END_USER_SESSIONS, USER_SESSIONS } from '../operations.ts';
import { SessionsTable } from '../sessions-table.tsx';
import { consoleClient } from '../../../shell/session.ts';
import { useQuery } from '../../../shell/use-query.ts';

/** One member's sessions, for owners and admins: end one, or all of them at once. */
export function UserSessions({ userId }: { userId: string }) {
  const { data, error, reload, setError } = useQuery(USER_SESSIONS, { id: userId });
  const fail = (e: unknown) => setError(e instanceof Error ? e.message : String(e));
  const endOne = (id: string) => consoleClient()!.request(END_SESSION, { id }).then(reload).catch(fail);
  const endAll = () => {
    if (!window.confirm(`Sign ${data?.user?.email ?? 'this user'} out everywhere? Their current tokens stop working at once.`)) return;
    consoleClient()!.request(END_USER_SESSIONS, { userId }).then(reload).catch(fail);
  };
  if (error !== null) return <p role="alert">{error}</p>;
  if (data === undefined) return <p>Loading…</p>;
  if (data.user === null) return <p role="alert">No such user.</p>;
  return (
    <div className="sessions" data-sessions-of={data.user.email}>
      <SessionsTable sessions={data.user.sessions} onEnd={endOne} label={`Sessions of ${data.user.email}`} />
      {data.user.sessions.length === 0 ? null : (
        <button type="button" data-action="end-all-sessions" onClick={endAll}>
          End all sessions
        </button>
      )}
    </div>
  );
}
