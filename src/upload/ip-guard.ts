import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/** Thrown when a URL download would connect to an address the server must not reach. */
export class BlockedAddressError extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(`Downloads from ${host} (${address}) are refused: it is a private, loopback, link-local or reserved address.`);
    this.name = 'BlockedAddressError';
  }
}

/**
 * Only public unicast addresses are reachable; IPv4-mapped IPv6 is judged as the IPv4 it carries.
 * Covers loopback, RFC 1918, link-local (incl. 169.254.169.254 metadata), CGNAT, unique-local, multicast, reserved.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed.range() === 'unicast';
}

/** The allow-list: exact host names, single addresses, or CIDR ranges (`127.0.0.1/32`, `fd00::/8`). */
export class AddressAllowlist {
  private readonly hosts = new Set<string>();
  private readonly ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      if (entry.includes('/')) this.ranges.push(ipaddr.parseCIDR(entry));
      else if (ipaddr.isValid(entry.replace(/^\[|\]$/g, ''))) {
        const addr = ipaddr.parse(entry.replace(/^\[|\]$/g, ''));
        this.ranges.push([addr, addr.kind() === 'ipv4' ? 32 : 128]);
      } else this.hosts.add(entry.toLowerCase());
    }
  }

  allowsHost(host: string): boolean {
    return this.hosts.has(host.toLowerCase());
  }

  allowsAddress(address: string): boolean {
    if (!ipaddr.isValid(address)) return false;
    let parsed = ipaddr.parse(address);
    if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
      parsed = (parsed as ipaddr.IPv6).toIPv4Address();
    }
    return this.ranges.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits));
  }

  permits(host: string, address: string): boolean {
    return this.allowsHost(host) || this.allowsAddress(address) || isPublicAddress(address);
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A DNS lookup that refuses to hand out non-public addresses. It runs when the socket connects, for the
 * first request and for every redirect, so DNS rebinding between check and connect is not possible.
 */
function guardedLookup(allowlist: AddressAllowlist) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const list = addresses as dns.LookupAddress[];
      const permitted = list.filter((a) => allowlist.permits(hostname, a.address));
      if (permitted.length === 0) {
        return callback(new BlockedAddressError(hostname, list[0]?.address ?? 'unresolved'), '');
      }
      if (options.all) return callback(null, permitted);
      const first = permitted[0] as dns.LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}

function guard<T extends http.Agent>(agent: T, allowlist: AddressAllowlist): T {
  const create = (agent as unknown as { createConnection: (o: net.NetConnectOpts, cb?: unknown) => net.Socket }).createConnection.bind(agent);
  (agent as unknown as { createConnection: unknown }).createConnection = (options: net.TcpNetConnectOpts & { host?: string; servername?: string }, cb?: unknown) => {
    const host = (options.host ?? 'localhost').replace(/^\[|\]$/g, '');
    if (net.isIP(host) && !allowlist.permits(host, host)) {
      throw new BlockedAddressError(host, host);
    }
    return create({ ...options, lookup: guardedLookup(allowlist) as unknown as net.LookupFunction }, cb);
  };
  return agent;
}

/** http and https agents that connect only where `allowlist` permits. */
export function createGuardedAgents(allowlist: AddressAllowlist): { http: http.Agent; https: https.Agent } {
  return {
    http: guard(new http.Agent({ keepAlive: false }), allowlist),
    https: guard(new https.Agent({ keepAlive: false }), allowlist),
  };
}
