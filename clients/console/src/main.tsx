import { StrictMode, useEffect, useState, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { Link, Outlet, RouterProvider, createRootRoute, createRoute, createRouter, useParams } from '@tanstack/react-router';
import { ME } from './operations.ts';
import { RunPage } from './pages/run.tsx';
import { RunsPage } from './pages/runs.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { SCREENS } from './screens.ts';
import { consoleClient, currentTenant, finishSignIn, signOut, signedIn } from './session.ts';
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
  return (
    <>
      <header>
        <nav>
          <strong>Tansu</strong> <span>{currentTenant()}</span>
          {SCREENS.filter((screen) => !screen.platformOnly || currentTenant() === 'platform').map((screen) => (
            <Link key={screen.path} to={screen.path}>
              {screen.title}
            </Link>
          ))}
        </nav>
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
      <main>{children}</main>
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
const indexRoute = createRoute({ getParentRoute: () => rootRoute, path: '/', component: RunsPage });
const screenRoutes = SCREENS.map((screen) => createRoute({ getParentRoute: () => rootRoute, path: screen.path, component: screen.component }));
const runRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/runs/$runId',
  component: function RunRoute() {
    const { runId } = useParams({ from: '/runs/$runId' });
    return <RunPage runId={runId} />;
  },
});

const router = createRouter({ routeTree: rootRoute.addChildren([indexRoute, ...screenRoutes, runRoute]), basepath: '/console' });

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <RouterProvider router={router} />
  </StrictMode>,
);
