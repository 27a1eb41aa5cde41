import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { buildConnector } from 'undici';

/**
 * Outbound calls made on a tenant's behalf (workflow http steps, upstream identity providers)
 * may reach globally reachable unicast addresses only, unless configuration allows private
 * ones. The check runs at connect time on the resolved address, so a DNS answer that changes
 * between check and use (rebinding) gains nothing.
 *
 * The ranges follow the IANA IPv4 and IPv6 Special-Purpose Address Registries, plus multicast
 * and the reserved space. A range the registries mark globally reachable but that only holds
 * anycast service addresses (192.0.0.9, 2001:1::1, ...) is refused with its block: no step has
 * a reason to call them, and refusing too much here is safe where refusing too little is not.
 */
const V4_BLOCKED: readonly (readonly [string, number])[] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // shared address space (carrier-grade NAT)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments (DS-Lite, NAT64 discovery, PCP/TURN anycast)
  ['192.0.2.0', 24], // documentation (TEST-NET-1)
  ['192.88.99.0', 24], // deprecated 6to4 relay anycast: would tunnel to any IPv6 address
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation (TEST-NET-2)
  ['203.0.113.0', 24], // documentation (TEST-NET-3)
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255 (limited broadcast)
];

/**
 * Within 2000::/3, the only IPv6 space allocated for global unicast. Everything outside it is
 * refused (::/8 with loopback, unspecified and the embedded forms below; 100::/64 discard;
 * 5f00::/16 SRv6 SIDs; fc00::/7 unique local; fe80::/10 link-local; fec0::/10 site-local;
 * ff00::/8 multicast; the unallocated rest), so a range added to a registry later is refused
 * until someone decides otherwise.
 */
const V6_BLOCKED_IN_GLOBAL: readonly (readonly [string, number])[] = [
  // IETF protocol assignments: Teredo 2001::/32 (embeds an obfuscated IPv4 address and
  // reaches it through a relay), benchmarking 2001:2::/48, ORCHID 2001:10::/28, ORCHIDv2
  // 2001:20::/28 and drone entity tags 2001:30::/28 (identifiers, not routable), and
  // anycast service addresses (2001:1::1-3, AMT, AS112).
  ['2001::', 23],
  ['2001:db8::', 32], // documentation
  // 6to4: the 32 bits after 2002: are an IPv4 address, reached by encapsulation through a
  // local 6to4 router or a relay. Refused outright rather than judged by that address: 6to4 is
  // deprecated (RFC 7526), no service needs it, and a relay on the path decides the rest.
  ['2002::', 16],
  ['3fff::', 20], // documentation (RFC 9637)
];

const V4_RANGES = V4_BLOCKED.map(([base, bits]) => ({ base: v4ToBigInt(base), bits }));
const V6_RANGES = V6_BLOCKED_IN_GLOBAL.map(([base, bits]) => ({ base: v6ToBigInt(base), bits }));

function v4ToBigInt(address: string): bigint {
  return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/** 128 bits of an address `isIP` accepted as IPv6 (no zone id). */
function v6ToBigInt(address: string): bigint {
  let text = address.toLowerCase();
  // A trailing dotted quad is the last 32 bits.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted !== null) {
    const v4 = v4ToBigInt(dotted[1]!);
    text = `${text.slice(0, dotted.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array.from({ length: 8 - headGroups.length - tailGroups.length }, () => '0');
  return [...headGroups, ...zeros, ...tailGroups].reduce((acc, group) => (acc << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}

function inRange(value: bigint, width: number, range: { base: bigint; bits: number }): boolean {
  const shift = BigInt(width - range.bits);
  return value >> shift === range.base >> shift;
}

function blockedV4(value: bigint): boolean {
  return V4_RANGES.some((range) => inRange(value, 32, range));
}

const IPV4_MAPPED = { base: v6ToBigInt('::ffff:0:0'), bits: 96 };
const NAT64_WELL_KNOWN = { base: v6ToBigInt('64:ff9b::'), bits: 96 };
const GLOBAL_UNICAST = { base: v6ToBigInt('2000::'), bits: 3 };

function blockedV6(value: bigint): boolean {
  const low32 = value & 0xffff_ffffn;
  // IPv4-mapped (::ffff:a.b.c.d): the socket connects over IPv4 to exactly a.b.c.d.
  if (inRange(value, 128, IPV4_MAPPED)) return blockedV4(low32);
  // NAT64 well-known prefix (64:ff9b::a.b.c.d): the translator connects to a.b.c.d. Judged by
  // that address rather than refused, so an IPv6-only host behind DNS64 keeps its egress;
  // a translator should refuse private IPv4 itself (RFC 6052), but not every one does.
  if (inRange(value, 128, NAT64_WELL_KNOWN)) return blockedV4(low32);
  // Everything else outside 2000::/3 is refused, including IPv4-compatible addresses
  // (::a.b.c.d, deprecated; a stack that still honours them would reach a.b.c.d unguarded),
  // IPv4-translated ::ffff:0:a.b.c.d, and the local-use NAT64 prefix 64:ff9b:1::/48, whose
  // operator chooses where the IPv4 address sits.
  if (!inRange(value, 128, GLOBAL_UNICAST)) return true;
  return V6_RANGES.some((range) => inRange(value, 128, range));
}

/** True unless the address is a globally reachable unicast address; anything that is not an IP address is blocked. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blockedV4(v4ToBigInt(address));
  // A zone id only scopes link-local and multicast addresses, which are refused anyway.
  if (family === 6) return address.includes('%') || blockedV6(v6ToBigInt(address));
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
