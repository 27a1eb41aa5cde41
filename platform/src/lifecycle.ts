import type { Logger } from './logger.ts';

/**
 * Runs `stop` once on SIGINT, SIGTERM or SIGHUP (the terminal closed), logs "stopping" and
 * "stopped", then exits; a second signal exits at once.
 */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'stopping');
    stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The address users should call. Sign-in pages and every tenant's token issuer live under
 * PUBLIC_URL, and browser cookies are per host, so that is the one to give out. When
 * PUBLIC_URL is not this router (a proxy, another host or port) the router's own address
 * is given too, for calls from this machine.
 */
export function endpointAddresses(publicUrl: string, routerUrl: string): { endpoint: string; router?: string } {
  const endpoint = `${publicUrl.replace(/\/+$/, '')}/graphql`;
  const pub = URL.parse(publicUrl);
  const local = URL.parse(routerUrl);
  const sameRouter =
    pub !== null &&
    local !== null &&
    pub.protocol === local.protocol &&
    pub.port === local.port &&
    (pub.pathname === '/' || pub.pathname === '') &&
    (pub.hostname === local.hostname || (LOOPBACK_HOSTS.has(pub.hostname) && LOOPBACK_HOSTS.has(local.hostname)));
  return sameRouter ? { endpoint } : { endpoint, router: `${routerUrl.replace(/\/+$/, '')}/graphql` };
}

/** What a started deployable has to tell the person who started it. */
export interface StartupNotes {
  /** The platform administrator, with the password when one was generated (shown once). */
  admin?: { email?: string; generatedPassword?: string };
}

/** What a started platform prints for the person who started it: where to go, how to sign in, how to stop. */
export function startupBanner(options: { publicUrl: string; routerUrl: string; playground: boolean } & StartupNotes): string {
  const { endpoint, router } = endpointAddresses(options.publicUrl, options.routerUrl);
  const rows: [string, string][] = [['GraphQL endpoint', router === undefined ? endpoint : `${endpoint}  (PUBLIC_URL; browsers and sign-in use this one)`]];
  if (router !== undefined) rows.push(['This router', `${router}  (direct, from this machine; OIDC sign-in needs the endpoint above)`]);
  if (options.playground) rows.push(['Playground', `${endpoint}  (open it in a browser)`]);
  rows.push(['Console', `${options.publicUrl.replace(/\/+$/, '')}/console/  (sign in with a tenant's name, platform for the administrator)`]);
  const admin = options.admin;
  if (admin?.email !== undefined) {
    rows.push(
      admin.generatedPassword === undefined
        ? ['Platform admin', `${admin.email}  (password from TANSU_ADMIN_PASSWORD)`]
        : ['Platform admin', `${admin.email} / ${admin.generatedPassword}  (shown once; set TANSU_ADMIN_EMAIL and TANSU_ADMIN_PASSWORD to choose them)`],
    );
  }
  const width = Math.max(...rows.map(([label]) => label.length)) + 3;
  return ['', 'Tansu is running.', '', ...rows.map(([label, value]) => `  ${label.padEnd(width)}${value}`), '', 'Press Ctrl-C to stop.', ''].join('\n');
}

/** Start-up failures end the process with one readable line, not a stack dump. */
export function failStartup(error: unknown): never {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
