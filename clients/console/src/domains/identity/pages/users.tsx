import { Fragment, useState, type FormEvent } from 'react';
import { INVITE_USER, SET_MEMBER_ROLE, SET_USER_DISABLED, USERS } from '../operations.ts';
import { consoleClient } from '../../../shell/session.ts';
import { useQuery } from '../../../shell/use-query.ts';
import { UserSessions } from './user-sessions.tsx';

const ROLES = ['OWNER', 'ADMIN', 'DEVELOPER', 'VIEWER'] as const;
type Role = (typeof ROLES)[number];

/** The tenant's users and their roles (owners and admins): invite someone, change a role, disable, see and end sessions. */
export function UsersPage() {
  const { data, error, reload, setError } = useQuery(USERS);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('VIEWER');
  const [notice, setNotice] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const fail = (e: unknown) => setError(e instanceof Error ? e.message : String(e));
  const invite = (event: FormEvent) => {
    event.preventDefault();
    consoleClient()!
      .request(INVITE_USER, { input: { email: email.trim(), role } })
      .then(({ inviteUser }) => {
        setNotice(`Invited ${inviteUser.email} as ${inviteUser.role}`);
        setEmail('');
      })
      .catch(fail);
  };
  const changeRole = (userId: string, next: Role) =>
    consoleClient()!
      .request(SET_MEMBER_ROLE, { input: { userId, role: next } })
      .then(reload)
      .catch(fail);
  const setDisabled = (userId: string, disabled: boolean) => consoleClient()!.request(SET_USER_DISABLED, { userId, disabled }).then(reload).catch(fail);
  return (
    <section>
      <h2>Users</h2>
      {error === null ? null : <p role="alert">{error}</p>}
      {notice === null ? null : <p role="status">{notice}</p>}
      <form className="inline" onSubmit={invite} aria-label="Invite a user">
        <input name="email" type="email" placeholder="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
        <select name="role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
        <button type="submit">Invite</button>
      </form>
      {data === undefined ? (
        <p>Loading…</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Email</th>
              <th>Role</th>
              <th>Disabled</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.users.nodes.map((user) => (
              <Fragment key={user.id}>
                <tr data-user={user.email}>
                  <td>{user.email}</td>
                  <td>
                    <select
                      aria-label={`Role of ${user.email}`}
                      value={user.roles[0] ?? 'VIEWER'}
                      onChange={(e) => void changeRole(user.id, e.target.value as Role)}
                    >
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {r}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    {user.disabled ? 'yes ' : ''}
                    <button type="button" data-action={user.disabled ? 'enable' : 'disable'} onClick={() => void setDisabled(user.id, !user.disabled)}>
                      {user.disabled ? 'Enable' : 'Disable'}
                    </button>
                  </td>
                  <td>
                    <button type="button" data-action="sessions" onClick={() => setOpen(open === user.id ? null : user.id)}>
                      {open === user.id ? 'Hide sessions' : 'Sessions'}
                    </button>
                  </td>
                </tr>
                {open === user.id ? (
                  <tr>
                    <td colSpan={4}>
                      <UserSessions userId={user.id} />
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
