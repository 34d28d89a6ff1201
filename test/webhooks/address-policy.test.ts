import { describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv } from '../../server/config.js';
import { addressPolicy, classifyAddress, invalidAllowEntries, parseCidr } from '../../server/webhooks/address-policy.js';

const kindOf = (address: string) => {
  const v = classifyAddress(address);
  return v.ok ? 'public' : v.kind;
};

describe('the webhook address classifier', () => {
  it('refuses IPv4 loopback, private, link-local, metadata, CGNAT, multicast, unspecified and reserved addresses', () => {
    const cases: [string, string][] = [
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.1.1', 'link-local'],
      ['169.254.169.254', 'metadata'],
      ['100.100.100.200', 'metadata'],
      ['100.64.0.1', 'shared'],
      ['100.127.255.255', 'shared'],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast'],
      ['0.0.0.0', 'unspecified'],
      ['0.1.2.3', 'unspecified'],
      ['255.255.255.255', 'reserved'],
      ['240.0.0.1', 'reserved'],
      ['198.18.0.1', 'reserved'],
      // Just outside the ranges.
      ['172.15.255.255', 'public'],
      ['172.32.0.0', 'public'],
      ['100.63.255.255', 'public'],
      ['100.128.0.0', 'public'],
      ['169.253.255.255', 'public'],
      ['11.0.0.1', 'public'],
      ['8.8.8.8', 'public'],
      ['223.255.255.255', 'public'],
    ];
    expect(cases.map(([a]) => [a, kindOf(a)])).toEqual(cases);
  });

  it('refuses IPv6 loopback, unique local, link-local, multicast, unspecified and the AWS metadata address', () => {
    const cases: [string, string][] = [
      ['::1', 'loopback'],
      ['[::1]', 'loopback'],
      ['0:0:0:0:0:0:0:1', 'loopback'],
      ['::', 'unspecified'],
      ['fc00::1', 'private'],
      ['fdff:ffff::1', 'private'],
      ['fd00:ec2::254', 'metadata'],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['febf::1', 'link-local'],
      ['fec0::1', 'private'],
      ['ff02::1', 'multicast'],
      ['100::1', 'reserved'],
      ['2001:4860:4860::8888', 'public'],
      ['2606:4700::1111', 'public'],
      ['fbff::1', 'public'],
      ['not-an-address', 'invalid'],
      ['localhost', 'invalid'],
    ];
    expect(cases.map(([a]) => [a, kindOf(a)])).toEqual(cases);
  });

  it('judges IPv4-mapped, -translated, -compatible and NAT64 IPv6 forms by the IPv4 address they carry', () => {
    const cases: [string, string][] = [
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['[::ffff:169.254.169.254]', 'metadata'],
      ['::ffff:a9fe:a9fe', 'metadata'],
      ['::ffff:10.0.0.1', 'private'],
      ['::ffff:0:192.168.0.1', 'private'],
      ['::127.0.0.1', 'loopback'],
      ['64:ff9b::10.0.0.1', 'private'],
      ['64:ff9b::7f00:1', 'loopback'],
      ['::ffff:0.0.0.0', 'unspecified'],
      ['::ffff:8.8.8.8', 'public'],
      ['64:ff9b::808:808', 'public'],
    ];
    expect(cases.map(([a]) => [a, kindOf(a)])).toEqual(cases);
  });
});

describe('the allow-list for private receivers (WEBHOOK_ALLOW_PRIVATE)', () => {
  it('parses CIDR ranges and single addresses, and refuses anything else', () => {
    expect(parseCidr('10.0.0.0/8')).toMatchObject({ version: 4, bits: 8 });
    expect(parseCidr('127.0.0.1')).toMatchObject({ version: 4, bits: 32 });
    expect(parseCidr('fd00::/8')).toMatchObject({ version: 6, bits: 8 });
    expect(parseCidr('::1')).toMatchObject({ version: 6, bits: 128 });
    expect(parseCidr(' 192.168.0.0/16 ')).toMatchObject({ bits: 16 });
    expect(invalidAllowEntries(['10.0.0.1/8', '10.0.0.0/33', 'fd00::/129', 'host.example', '10.0.0.0/8/1', '[::1]', '::ffff:10.0.0.0/104', '10.0.0.0/x', '', 'fe80::1%eth0'])).toHaveLength(10);
    expect(invalidAllowEntries(['10.0.0.0/8', '127.0.0.1/32', '::1/128', 'fc00::/7', '0.0.0.0/0'])).toEqual([]);
  });

  it('lets an allowed range through, mapped forms included, but never a metadata address', () => {
    const policy = addressPolicy(['127.0.0.1/32', '10.0.0.0/8', 'fd12::/16', '169.254.0.0/16']);
    expect(policy.check('127.0.0.1')).toEqual({ ok: true });
    expect(policy.check('::ffff:127.0.0.1')).toEqual({ ok: true });
    expect(policy.check('10.200.0.7')).toEqual({ ok: true });
    expect(policy.check('fd12:3456::1')).toEqual({ ok: true });
    expect(policy.check('169.254.1.1')).toEqual({ ok: true });
    expect(policy.check('127.0.0.2')).toEqual({ ok: false, kind: 'loopback' });
    expect(policy.check('::1')).toEqual({ ok: false, kind: 'loopback' });
    expect(policy.check('192.168.0.1')).toEqual({ ok: false, kind: 'private' });
    expect(policy.check('169.254.169.254')).toEqual({ ok: false, kind: 'metadata' });
    expect(addressPolicy(['0.0.0.0/0', '::/0']).check('fd00:ec2::254')).toEqual({ ok: false, kind: 'metadata' });
    // Container credential endpoints and Azure's WireServer (public, so refused whatever the list says too).
    for (const address of ['169.254.170.2', '169.254.170.23', 'fd00:ec2::23', '168.63.129.16']) {
      expect(addressPolicy(['0.0.0.0/0', '::/0', '169.254.0.0/16']).check(address)).toEqual({ ok: false, kind: 'metadata' });
    }
    expect(addressPolicy([]).check('8.8.8.8')).toEqual({ ok: true });
    expect(() => addressPolicy(['10.0.0.1/8'])).toThrow(/10\.0\.0\.1\/8/);
  });

  it('is read from the environment as a comma-separated list, validated at start, empty by default', () => {
    expect(configFromEnv({}).webhookAllowPrivate).toEqual([]);
    expect(configFromEnv({ WEBHOOK_ALLOW_PRIVATE: '10.0.0.0/8, 127.0.0.1/32,fd00::/8' }).webhookAllowPrivate).toEqual(['10.0.0.0/8', '127.0.0.1/32', 'fd00::/8']);
    expect(() => configFromEnv({ WEBHOOK_ALLOW_PRIVATE: '10.0.0.0/8,intranet.example' })).toThrow(ConfigError);
    expect(() => configFromEnv({ WEBHOOK_ALLOW_PRIVATE: '10.0.0.1/8' })).toThrow(/WEBHOOK_ALLOW_PRIVATE: .*10\.0\.0\.1\/8/);
  });
});
