import { useEffect, useState, type FormEvent } from 'react';
import type { ResultOf } from '@tansu/client';
import { AUDIT_FEED, AUDIT_LOG } from '../operations.ts';
import { consoleClient } from '../../../shell/session.ts';

type Entry = ResultOf<typeof AUDIT_LOG>['auditLog']['entries'][number];
interface Filter {
  action?: string;
  outcome?: string;
}

/** The tenant's audit log, newest first (owners and admins), filtered by action and outcome; new entries arrive live. */
export function AuditLogPage() {
  const [action, setAction] = useState('');
  const [outcome, setOutcome] = useState('');
  const [filter, setFilter] = useState<Filter>({});
  const [entries, setEntries] = useState<Entry[] | null>(null);
  const [older, setOlder] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const fail = (e: unknown) => setError(e instanceof Error ? e.message : String(e));

  useEffect(() => {
    const client = consoleClient();
    if (client === undefined) return;
    let cancelled = false;
    let stop: (() => void) | undefined;
    setEntries(null);
    client
      .request(AUDIT_LOG, { filter })
      .then(({ auditLog }) => {
        if (cancelled) return;
        setEntries(auditLog.entries);
        setOlder(auditLog.hasMore ? auditLog.endCursor : null);
        setError(null);
        // From where the feed stood when the page was read: nothing recorded in between is
        // missed; an entry the page holds already is a repeat.
        stop = client.subscribe(
          AUDIT_FEED,
          { filter, after: auditLog.live ?? undefined },
          {
            next: ({ auditLog: event }) =>
              setEntries((current) => (current === null || current.some((e) => e.id === event.entry.id) ? current : [event.entry, ...current])),
            error: (e) => setError(e.message),
          },
        );
      })
      .catch((e: unknown) => {
        if (cancelled) return;
        setEntries([]);
        fail(e);
      });
    return () => {
      cancelled = true;
      stop?.();
    };
  }, [filter]);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilter({ ...(action.trim() === '' ? {} : { action: action.trim() }), ...(outcome === '' ? {} : { outcome }) });
  };
  const loadOlder = () =>
    consoleClient()!
      .request(AUDIT_LOG, { filter, after: older })
      .then(({ auditLog }) => {
        setEntries((current) => [...(current ?? []), ...auditLog.entries]);
        setOlder(auditLog.hasMore ? auditLog.endCursor : null);
      })
      .catch(fail);

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
      {entries === null ? (
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
            {entries.map((entry) => (
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
      {older === null ? null : (
        <button type="button" onClick={() => void loadOlder()}>
          Older entries
        </button>
      )}
    </section>
  );
}
