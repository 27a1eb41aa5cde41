/**
 * A browser reduced to what sign-in flows need: cookies kept per host and path (two
 * providers on one host must not see each other's), and redirects followed until one
 * leaves for the application's callback.
 */
export class Browser {
  private readonly cookies = new Map<string, { host: string; path: string; name: string; value: string }>();
  private readonly stopAt: string;

  /** `stopAt`: the app's redirect URI; following stops when a redirect points there. */
  constructor(stopAt: string) {
    this.stopAt = stopAt;
  }

  /** The cookies of that name this browser holds, with their paths. */
  cookiesNamed(name: string): { host: string; path: string }[] {
    return [...this.cookies.values()].filter((c) => c.name === name).map(({ host, path }) => ({ host, path }));
  }

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const target = new URL(url);
    const headers: Record<string, string> = {};
    // Longer paths first, as browsers send them (RFC 6265 5.4).
    const sent = [...this.cookies.values()]
      .filter((c) => c.host === target.hostname && target.pathname.startsWith(c.path))
      .sort((a, b) => b.path.length - a.path.length);
    if (sent.length > 0) headers.cookie = sent.map((c) => `${c.name}=${c.value}`).join('; ');
    let body: string | undefined;
    if (init.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(url, { method: init.method ?? 'GET', headers, body, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair, ...attributes] = cookie.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const path =
        attributes
          .map((a) => a.trim())
          .find((a) => a.toLowerCase().startsWith('path='))
          ?.slice(5) ?? '/';
      const key = `${target.hostname}|${path}|${name}`;
      if (/expires=Thu, 01 Jan 1970/i.test(cookie) || value === '') this.cookies.delete(key);
      else this.cookies.set(key, { host: target.hostname, path, name, value });
    }
    return response;
  }

  /** Follows redirects until one leaves for the app's callback, or a page is shown. */
  async follow(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ url: string; response: Response }> {
    let current = url;
    let response = await this.request(current, init);
    for (let hops = 0; hops < 15 && response.status >= 300 && response.status < 400; hops++) {
      current = new URL(response.headers.get('location')!, current).toString();
      if (current.startsWith(this.stopAt)) return { url: current, response };
      response = await this.request(current);
    }
    return { url: current, response };
  }
}
