import { useEffect, useState, type FormEvent } from 'react';
import { CREATE_TENANT, DELETE_TENANT, PLANS, RESUME_TENANT, SET_TENANT_PLAN, SUSPEND_TENANT, TENANTS } from '../operations.ts';
import { consoleClient } from '../../../shell/session.ts';
import { useSensitive } from '../../../shell/step-up.tsx';
import { useQuery } from '../../../shell/use-query.ts';

/** How often the list is read again while a deleted tenant is being purged. */
const PURGE_POLL_MS = 5_000;

/** Platform administrators: every tenant, with its plan and status; create, suspend, resume and delete. */
export function TenantsPage() {
  const { data, error, reload, setError } = useQuery(TENANTS);
  const sensitive = useSensitive();
  const [deleting, setDeleting] = useState<string | null>(null);
  const [typed, setTyped] = useState('');
  const purging = data?.tenants.some((t) => t.status === 'DELETED') === true;
  useEffect(() => {
    if (!purging) return;
    const timer = setInterval(reload, PURGE_POLL_MS);
    return () => clearInterval(timer);
  }, [purging, reload]);
  const plans = useQuery(PLANS).data?.plans ?? [];
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');
  const [owner, setOwner] = useState('');
  const act = (work: () => Promise<unknown>) =>
    work()
      .then(reload)
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  const create = (event: FormEvent) => {
    event.preventDefault();
    const input = { slug: slug.trim(), name: name.trim(), owner: owner.trim() === '' ? undefined : { email: owner.trim() } };
    void act(async () => {
      await consoleClient()!.request(CREATE_TENANT, { input });
      setSlug('');
      setName('');
      setOwner('');
    });
  };
  const remove = (event: FormEvent) => {
    event.preventDefault();
    const slug = deleting!;
    void act(async () => {
      await sensitive(() => consoleClient()!.request(DELETE_TENANT, { slug }));
      setDeleting(null);
      setTyped('');
    });
  };
  return (
    <section>
      <h2>Tenants</h2>
      {error === null ? null : <p role="alert">{error}</p>}
      {deleting === null ? null : (
        <form className="dialog danger-zone" onSubmit={remove} aria-label={`Delete ${deleting}`}>
          <p>
            Deleting <strong>{deleting}</strong> refuses its users at once, then purges every user, run, key and event of it. This cannot be undone.
          </p>
          <label>
            Type the tenant's slug to confirm
            <input name="confirm-slug" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
          </label>
          <div className="actions">
            <button type="submit" className="danger" disabled={typed !== deleting}>
              Delete {deleting}
            </button>
            <button type="button" onClick={() => setDeleting(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <form className="inline" onSubmit={create} aria-label="Create a tenant">
        <input name="slug" placeholder="slug" value={slug} onChange={(e) => setSlug(e.target.value)} required />
        <input name="name" placeholder="name" value={name} onChange={(e) => setName(e.target.value)} required />
        <input name="owner" type="email" placeholder="first owner's email (optional)" value={owner} onChange={(e) => setOwner(e.target.value)} />
        <button type="submit">Create tenant</button>
      </form>
      {data === undefined ? (
        <p>Loading…</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Slug</th>
              <th>Name</th>
              <th>Plan</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.tenants.map((tenant) => (
              <tr key={tenant.id} data-tenant={tenant.slug}>
                <td>{tenant.slug}</td>
                <td>{tenant.name}</td>
                <td>
                  <select
                    aria-label={`Plan of ${tenant.slug}`}
                    value={tenant.plan.id}
                    onChange={(e) => void act(() => consoleClient()!.request(SET_TENANT_PLAN, { tenant: tenant.slug, plan: e.target.value }))}
                  >
                    {(plans.length === 0 ? [{ id: tenant.plan.id, name: tenant.plan.id }] : plans).map((plan) => (
                      <option key={plan.id} value={plan.id}>
                        {plan.name}
                      </option>
                    ))}
                  </select>
                </td>
                <td className={`status ${tenant.status}`} data-testid="tenant-status">
                  {tenant.status}
                </td>
                <td>
                  {tenant.slug === 'platform' ? null : tenant.status === 'ACTIVE' ? (
                    <button
                      type="button"
                      data-action="suspend"
                      onClick={() => {
                        if (window.confirm(`Suspend ${tenant.slug}? Its users are refused until it is resumed.`))
                          void act(() => consoleClient()!.request(SUSPEND_TENANT, { slug: tenant.slug }));
                      }}
                    >
                      Suspend
                    </button>
                  ) : tenant.status === 'SUSPENDED' ? (
                    <button type="button" data-action="resume" onClick={() => void act(() => consoleClient()!.request(RESUME_TENANT, { slug: tenant.slug }))}>
                      Resume
                    </button>
                  ) : null}
                  {tenant.slug === 'platform' || tenant.status === 'DELETED' ? null : (
                    <button
                      type="button"
                      data-action="delete"
                      onClick={() => {
                        setDeleting(tenant.slug);
                        setTyped('');
                      }}
                    >
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
