import { useState, type FormEvent } from 'react';
import { AUDIT_LOG } from '../operations.ts';
import { useQuery } from '../../../shell/use-query.ts';

/** The tenant's audit log, newest first (owners and admins), filtered by action and outcome. */
export function AuditLogPage() {
  const [action, setAction] = useState('');
  const [outcome, setOutcome] = useState('');
  const [filter, setFilter] = useState<{ action?: string; outcome?: string }>({});
  const { data, error } = useQuery(AUDIT_LOG, { filter });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilter({ ...(action.trim() === '' ? {} : { action: action.trim() }), ...(outcome === '' ? {} : { outcome }) });
  };
  return (
    <section>
      <h2>Audit log</h2>
      <form className="inline" onSubmit={apply} aria-label="Filter the audit log">
        <input name="action" placeholder="action, e.g. user.invited" value={action} onChange={(e) => setAction(e.target.value)} />
        <select name="outcome" value={outcome} onChange={(e) => setOutcome(e.target.value)}>
          <option value="">any outcome</option>
          <option value="SUCCESS">success</option>
          <option value="FAILURE">failure</option>
        </select>
        <button type="submit">Filter</button>
      </form>
      {error === null ? null : <p role="alert">{error}</p>}
      {data === undefined ? (
        <p>Loading…</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>Action</th>
              <th>Target</th>
              <th>Outcome</th>
              <th>Actor</th>
              <th>Address</th>
            </tr>
          </thead>
          <tbody>
            {data.auditLog.entries.map((entry) => (
              <tr key={entry.id} data-audit={entry.action}>
                <td>{new Date(entry.at).toLocaleString()}</td>
                <td>{entry.action}</td>
                <td>{entry.target}</td>
                <td className={`status ${entry.outcome === 'SUCCESS' ? 'SUCCEEDED' : 'FAILED'}`}>{entry.outcome}</td>
                <td>{entry.actorId}</td>
                <td>{entry.ip}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
