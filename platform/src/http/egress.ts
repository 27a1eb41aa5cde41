import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { buildConnector } from 'undici';

/**
 * Outbound calls of workflow steps may not reach the platform's own network: loopback,
 * private, link-local (cloud metadata), CGNAT and unspecified addresses are refused unless
 * configuration allows them. The check runs at connect time on the resolved address, so a
 * DNS answer that changes between check and use (rebinding) gains nothing.
 */
const V4_BLOCKED: [number, number][] = [
  [0x00000000, 8], // 0.0.0.0/8
  [0x0a000000, 8], // 10/8
  [0x64400000, 10], // 100.64/10 (CGNAT)
  [0x7f000000, 8], // 127/8
  [0xa9fe0000, 16], // 169.254/16 (link-local, metadata)
  [0xac100000, 12], // 172.16/12
  [0xc0a80000, 16], // 192.168/16
  [0xe0000000, 4], // multicast
  [0xf0000000, 4], // reserved, broadcast
];

function v4ToInt(address: string): number {
  return address.split('.').reduce((acc, part) => (acc << 8) + Number(part), 0) >>> 0;
}

function blockedV4(address: string): boolean {
  const value = v4ToInt(address);
  return V4_BLOCKED.some(([base, bits]) => (value >>> (32 - bits)) === (base >>> (32 - bits)));
}

/** The canonical, compressed spelling (0:0:0:0:0:0:0:1 and 0::1 are ::1). */
function canonicalV6(address: string): string {
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address.toLowerCase();
  }
}

function blockedV6(address: string): boolean {
  const lower = canonicalV6(address);
  if (lower === '::' || lower === '::1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped !== null) return blockedV4(mapped[1]!);
  // IPv4-mapped in hex form, ::ffff:7f00:1
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hexMapped !== null) {
    const value = (Number.parseInt(hexMapped[1]!, 16) << 16) | Number.parseInt(hexMapped[2]!, 16);
    return blockedV4([value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.'));
  }
  const first = Number.parseInt(lower.split(':')[0] || '0', 16);
  return (first & 0xfe00) === 0xfc00 /* fc00::/7 */ || (first & 0xffc0) === 0xfe80 /* fe80::/10 */ || (first & 0xff00) === 0xff00 /* multicast */;
}

export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blockedV4(address);
  if (family === 6) return blockedV6(address);
  return true;
}

export class EgressDeniedError extends Error {
  override name = 'EgressDeniedError';
}

/**
 * A socket connector that checks the address it actually connected to: DNS answers are
 * checked by the lookup, and IP literals in URLs (which skip lookup) are checked here.
 */
export function guardedConnector(allowPrivate: boolean): buildConnector.connector {
  const connect = buildConnector({ lookup: guardedLookup(allowPrivate) } as buildConnector.BuildOptions);
  return (options, callback) => {
    const host = options.hostname.replace(/^\[|\]$/g, '');
    if (!allowPrivate && isIP(host) !== 0 && isBlockedAddress(host)) {
      callback(new EgressDeniedError(`egress to ${host} is not allowed`), null);
      return;
    }
    connect(options, (error, socket) => {
      if (error !== null) return callback(error, null);
      const remote = socket.remoteAddress;
      if (!allowPrivate && (remote === undefined || isBlockedAddress(remote))) {
        socket.destroy();
        return callback(new EgressDeniedError(`egress to ${remote ?? options.hostname} is not allowed`), null);
      }
      callback(null, socket);
    });
  };
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for sockets that refuses blocked addresses (undici's connect option takes it). */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    dnsLookup(hostname, { all: true }, (error, addresses) => {
      if (error !== null) return callback(error, []);
      const list = addresses as LookupAddress[];
      const denied = allowPrivate ? undefined : list.find((entry) => isBlockedAddress(entry.address));
      if (denied !== undefined) return callback(new EgressDeniedError(`egress to ${hostname} (${denied.address}) is not allowed`), []);
      if (options.all === true) return callback(null, list);
      const first = list[0];
      if (first === undefined) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}
