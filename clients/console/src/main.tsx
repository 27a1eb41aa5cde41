import { StrictMode, useEffect, useState, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { Link, Outlet, RouterProvider, createRootRoute, createRoute, createRouter } from '@tanstack/react-router';
import { SCREENS, SECTIONS } from './screens.ts';
import { ME } from './shell/operations.ts';
import { consoleClient, currentTenant, finishSignIn, signOut, signedIn } from './shell/session.ts';
import { SignInPage } from './shell/sign-in.tsx';
import { StepUpProvider } from './shell/step-up.tsx';
import './styles.css';

type Auth = { state: 'loading' } | { state: 'signed-out'; error?: string } | { state: 'signed-in'; email: string; tenant: string };

/** Finishes a sign-in coming back from the issuer, then shows the console or the sign-in page. */
function Shell({ children }: { children: ReactNode }) {
  const [auth, setAuth] = useState<Auth>({ state: 'loading' });
  useEffect(() => {
    const returning = new URLSearchParams(window.location.search).has('code');
    (returning ? finishSignIn() : Promise.resolve())
      .then(async () => {
        if (!(await signedIn())) return setAuth({ state: 'signed-out' });
        const { me } = await consoleClient()!.request(ME);
        setAuth(me === null ? { state: 'signed-out' } : { state: 'signed-in', email: me.email, tenant: me.tenant.slug });
      })
      .catch((e: unknown) => setAuth({ state: 'signed-out', error: e instanceof Error ? e.message : String(e) }));
  }, []);
  if (auth.state === 'loading') return <p>Loading…</p>;
  if (auth.state === 'signed-out')
    return (
      <>
        <SignInPage />
        {auth.error === undefined ? null : <p role="alert">{auth.error}</p>}
      </>
    );
  const platform = currentTenant() === 'platform';
  return (
    <>
      <header>
        <strong>Tansu</strong> <span data-testid="tenant">{currentTenant()}</span>
        <span className="grow" />
        <span data-testid="signed-in-as">{auth.email}</span>
        <button
          type="button"
          onClick={() => {
            signOut();
            setAuth({ state: 'signed-out' });
          }}
        >
          Sign out
        </button>
      </header>
      <div className="frame">
        <nav aria-label="Screens">
          {SECTIONS.map((section) => {
            const shown = section.screens.filter((screen) => screen.hidden !== true && (!screen.platformOnly || platform));
            return shown.length === 0 ? null : (
              <div key={section.title} className="section">
                <h4>{section.title}</h4>
                {shown.map((screen) => (
                  <Link key={screen.path} to={screen.path} activeProps={{ className: 'active' }}>
                    {screen.title}
                  </Link>
                ))}
              </div>
            );
          })}
        </nav>
        <main>
          <StepUpProvider>{children}</StepUpProvider>
        </main>
      </div>
    </>
  );
}

const rootRoute = createRootRoute({
  component: () => (
    <Shell>
      <Outlet />
    </Shell>
  ),
});
// The first screen is the home page.
const indexRoute = createRoute({ getParentRoute: () => rootRoute, path: '/', component: SCREENS[0]!.component });
const screenRoutes = SCREENS.map((screen) => createRoute({ getParentRoute: () => rootRoute, path: screen.path, component: screen.component }));

const router = createRouter({ routeTree: rootRoute.addChildren([indexRoute, ...screenRoutes]), basepath: '/console' });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <RouterProvider router={router} />
  </StrictMode>,
);
