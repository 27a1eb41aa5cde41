import { useEffect, useState, type FormEvent } from 'react';
import type { ResultOf } from '@tansu/client';
import { SETTINGS, UPDATE_SETTINGS } from '../operations.ts';
import { consoleClient } from '../../../shell/session.ts';
import { useQuery } from '../../../shell/use-query.ts';

type Settings = NonNullable<ResultOf<typeof SETTINGS>['tenant']>['settings'];

/** How the tenant's users sign up and sign in (owners and admins). */
export function SettingsPage() {
  const { data, error, setError } = useQuery(SETTINGS);
  const [draft, setDraft] = useState<Settings | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (data?.tenant != null) setDraft(data.tenant.settings);
  }, [data]);
  const save = (event: FormEvent) => {
    event.preventDefault();
    if (draft === null) return;
    setSaved(false);
    consoleClient()!
      .request(UPDATE_SETTINGS, {
        input: {
          selfSignUp: draft.selfSignUp,
          passwordMinLength: draft.passwordMinLength,
          emailVerificationRequired: draft.emailVerificationRequired,
          mfaRequired: draft.mfaRequired,
        },
      })
      .then(({ updateTenantSettings }) => {
        setDraft(updateTenantSettings.settings);
        setSaved(true);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  };
  if (error !== null && draft === null) return <p role="alert">{error}</p>;
  if (draft === null) return <p>Loading…</p>;
  const toggle = (key: 'selfSignUp' | 'emailVerificationRequired' | 'mfaRequired', label: string) => (
    <label className="check">
      <input type="checkbox" name={key} checked={draft[key]} onChange={(e) => setDraft({ ...draft, [key]: e.target.checked })} /> {label}
    </label>
  );
  return (
    <section className="narrow-left">
      <h2>Sign-up and sign-in</h2>
      {error === null ? null : <p role="alert">{error}</p>}
      <form onSubmit={save} aria-label="Settings">
        {toggle('selfSignUp', 'Anyone may sign up')}
        {toggle('emailVerificationRequired', 'Users verify their email address before signing in')}
        {toggle('mfaRequired', 'Every user signs in with a second factor')}
        <label>
          Shortest password
          <input
            name="passwordMinLength"
            type="number"
            min={8}
            max={128}
            value={draft.passwordMinLength}
            onChange={(e) => setDraft({ ...draft, passwordMinLength: Number(e.target.value) })}
          />
        </label>
        <button type="submit">Save</button>
      </form>
      {saved ? <p role="status">Saved</p> : null}
    </section>
  );
}
