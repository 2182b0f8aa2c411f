import { describe, expect, it } from 'vitest';
import { AddressAllowlist, isPublicAddress } from '../../src/upload/ip-guard.js';

describe('private network guard', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fd00:ec2::254', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '224.0.0.1', '255.255.255.255'])(
    '%s is not reachable',
    (address) => {
      expect(isPublicAddress(address)).toBe(false);
    },
  );

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('%s is public', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it('lets the allow-list open hosts, single addresses and ranges', () => {
    const list = new AddressAllowlist(['127.0.0.1/32', 'files.internal', '10.0.0.0/8', '::1']);
    expect(list.permits('x', '127.0.0.1')).toBe(true);
    expect(list.permits('x', '127.0.0.2')).toBe(false);
    expect(list.permits('x', '10.9.9.9')).toBe(true);
    expect(list.permits('x', '::1')).toBe(true);
    expect(list.permits('files.internal', '192.168.0.5')).toBe(true);
    expect(list.permits('other.internal', '192.168.0.5')).toBe(false);
    expect(list.permits('x', '::ffff:127.0.0.1')).toBe(true);
  });
});
