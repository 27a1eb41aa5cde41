import { createContext, useCallback, useContext, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { Link } from '@tanstack/react-router';
import { TansuError, isStepUpRequired } from '@tansu/client';
import { consoleClient } from './session.ts';

type Sensitive = <T>(action: () => Promise<T>) => Promise<T>;

const SensitiveContext = createContext<Sensitive | null>(null);

export class StepUpCancelled extends Error {
  constructor() {
    super('Cancelled: this needs a code from your authenticator app');
  }
}

/**
 * Runs sensitive operations: when the API asks for a recent second factor, a dialog asks for a
 * code, `stepUp` proves it (the session continues on the new tokens) and the operation runs again.
 */
export function StepUpProvider({ children }: { children: ReactNode }) {
  const waiting = useRef<{ resolve: () => void; reject: (e: Error) => void } | null>(null);
  const [open, setOpen] = useState(false);
  const [code, setCode] = useState('');
  const [problem, setProblem] = useState<{ message: string; enroll: boolean } | null>(null);

  const sensitive = useCallback<Sensitive>(async (action) => {
    try {
      return await action();
    } catch (e) {
      if (!isStepUpRequired(e)) throw e;
      await new Promise<void>((resolve, reject) => {
        // One prompt at a time: an earlier action still waiting gives way to this one.
        waiting.current?.reject(new StepUpCancelled());
        waiting.current = { resolve, reject };
        setProblem(null);
        setCode('');
        setOpen(true);
      });
      return action();
    }
  }, []);

  const close = (outcome: 'proven' | 'cancelled') => {
    setOpen(false);
    const pending = waiting.current;
    waiting.current = null;
    if (outcome === 'proven') pending?.resolve();
    else pending?.reject(new StepUpCancelled());
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    consoleClient()!
      .auth.stepUp(code.trim())
      .then(() => close('proven'))
      .catch((e: unknown) => {
        // MFA_REQUIRED with `enroll`: the account has no factor to prove yet.
        const enroll = e instanceof TansuError && e.code === 'MFA_REQUIRED' && e.extensions.enroll === true;
        setProblem({ message: e instanceof Error ? e.message : String(e), enroll });
      });
  };

  return (
    <SensitiveContext.Provider value={sensitive}>
      {children}
      {open ? (
        <div className="dialog-backdrop">
          <form className="dialog" role="dialog" aria-label="Confirm with your second factor" onSubmit={submit}>
            <h3>Confirm it is you</h3>
            <p>This needs a second factor proven in the last ten minutes.</p>
            <label>
              Code from your authenticator app, or a recovery code
              <input name="step-up-code" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} required autoFocus />
            </label>
            {problem === null ? null : (
              <p role="alert">
                {problem.message}
                {problem.enroll ? (
                  <>
                    {' '}
                    <Link to="/account" onClick={() => close('cancelled')}>
                      Set up an authenticator app
                    </Link>
                  </>
                ) : null}
              </p>
            )}
            <div className="actions">
              <button type="submit">Confirm</button>
              <button type="button" onClick={() => close('cancelled')}>
                Cancel
              </button>
            </div>
          </form>
        </div>
      ) : null}
    </SensitiveContext.Provider>
  );
}

/** Wraps an operation so that a step-up prompt, when the API asks for one, comes first. */
export function useSensitive(): Sensitive {
  const sensitive = useContext(SensitiveContext);
  if (sensitive === null) throw new Error('useSensitive outside StepUpProvider');
  return sensitive;
}
