import { isIPv4, isIPv6 } from 'node:net';
/**
 * Refused ranges, first match wins (metadata before the link-local and private ranges that hold it). IPv4-mapped,
 * IPv4-compatible and NAT64 IPv6 forms are judged by the IPv4 address they carry.
 */
const REFUSED = [
    { cidr: '169.254.169.254/32', kind: 'metadata' }, // AWS, GCP, Azure, OpenStack, Oracle
    { cidr: '100.100.100.200/32', kind: 'metadata' }, // Alibaba Cloud
    { cidr: 'fd00:ec2::254/128', kind: 'metadata' }, // AWS over IPv6
    { cidr: '169.254.170.2/32', kind: 'metadata' }, // AWS ECS task credentials
    { cidr: '169.254.170.23/32', kind: 'metadata' }, // AWS EKS pod identity
    { cidr: 'fd00:ec2::23/128', kind: 'metadata' }, // AWS EKS pod identity over IPv6
    { cidr: '168.63.129.16/32', kind: 'metadata' }, // Azure WireServer (a public address)
    { cidr: '0.0.0.0/8', kind: 'unspecified' }, // "this network": 0.0.0.0 reaches the local host
    { cidr: '127.0.0.0/8', kind: 'loopback' },
    { cidr: '10.0.0.0/8', kind: 'private' },
    { cidr: '172.16.0.0/12', kind: 'private' },
    { cidr: '192.168.0.0/16', kind: 'private' },
    { cidr: '169.254.0.0/16', kind: 'link-local' },
    { cidr: '100.64.0.0/10', kind: 'shared' }, // carrier-grade NAT (RFC 6598)
    { cidr: '224.0.0.0/4', kind: 'multicast' },
    { cidr: '240.0.0.0/4', kind: 'reserved' }, // and 255.255.255.255
    { cidr: '192.0.0.0/24', kind: 'reserved' }, // IETF protocol assignments
    { cidr: '198.18.0.0/15', kind: 'reserved' }, // benchmarking
    { cidr: '::/128', kind: 'unspecified' },
    { cidr: '::1/128', kind: 'loopback' },
    { cidr: 'fc00::/7', kind: 'private' }, // unique local (RFC 4193)
    { cidr: 'fec0::/10', kind: 'private' }, // site-local (deprecated)
    { cidr: 'fe80::/10', kind: 'link-local' },
    { cidr: 'ff00::/8', kind: 'multicast' },
    { cidr: '100::/64', kind: 'reserved' }, // discard-only
];
/** 'a.b.c.d', 'v6' or '[v6]' (a zone id is ignored) as a number, or undefined when it is no IP address. */
export function parseIp(text) {
    const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
    if (isIPv4(bare))
        return { version: 4, value: v4Value(bare) };
    const noZone = bare.split('%')[0] ?? '';
    if (isIPv6(noZone))
        return { version: 6, value: v6Value(noZone) };
    return undefined;
}
function v4Value(text) {
    return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}
function v6Value(text) {
    let s = text;
    const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s)?.[1];
    if (dotted) {
        const v4 = v4Value(dotted);
        s = `${s.slice(0, -dotted.length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
    }
    const [head = '', tail] = s.split('::');
    const left = head ? head.split(':') : [];
    const right = tail === undefined ? [] : tail ? tail.split(':') : [];
    const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
    return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}
const V4_MAPPED = { version: 6, value: 0xffffn << 32n, bits: 96 }; // ::ffff:a.b.c.d
const V4_TRANSLATED = { version: 6, value: 0xffffn << 48n, bits: 96 }; // ::ffff:0:a.b.c.d (RFC 2765)
const V4_COMPATIBLE = { version: 6, value: 0n, bits: 96 }; // ::a.b.c.d (deprecated)
const NAT64 = { version: 6, value: 0x64ff9bn << 96n, bits: 96 }; // 64:ff9b::a.b.c.d (RFC 6052)
/** An IPv6 address that carries an IPv4 one (mapped, translated, compatible, NAT64) as that IPv4 address. */
function normalise(ip) {
    if (ip.version === 4)
        return ip;
    const carriesV4 = [V4_MAPPED, V4_TRANSLATED, NAT64].some((c) => inCidr(ip, c)) || (inCidr(ip, V4_COMPATIBLE) && ip.value > 1n);
    return carriesV4 ? { version: 4, value: ip.value & 0xffffffffn } : ip;
}
function inCidr(ip, cidr) {
    if (ip.version !== cidr.version)
        return false;
    const width = ip.version === 4 ? 32 : 128;
    const shift = BigInt(width - cidr.bits);
    return ip.value >> shift === cidr.value >> shift;
}
/**
 * 'a.b.c.d/n', 'v6/n' or a single address; the bits after the prefix must be zero (10.0.0.1/8 is a typo). An
 * IPv4-mapped IPv6 range is refused: write the IPv4 form, which also covers the mapped addresses.
 */
export function parseCidr(text) {
    const [address = '', prefix, extra] = text.trim().split('/');
    if (extra !== undefined)
        return undefined;
    const ip = parseIp(address);
    if (!ip || address.startsWith('[') || address.includes('%'))
        return undefined;
    const width = ip.version === 4 ? 32 : 128;
    if (prefix !== undefined && !/^\d{1,3}$/.test(prefix))
        return undefined;
    const bits = prefix === undefined ? width : Number(prefix);
    if (bits > width)
        return undefined;
    if (bits < width && ip.value & ((1n << BigInt(width - bits)) - 1n))
        return undefined;
    if (ip.version === 6 && normalise(ip).version === 4 && bits >= 96)
        return undefined;
    return { ...ip, bits };
}
const REFUSED_RANGES = REFUSED.map(({ cidr, kind }) => ({ range: parseCidr(cidr), kind }));
/** What the built-in rules say about an address, ignoring any allow-list. */
export function classifyAddress(address) {
    const ip = parseIp(address);
    if (!ip)
        return { ok: false, kind: 'invalid' };
    const n = normalise(ip);
    const hit = REFUSED_RANGES.find(({ range }) => inCidr(n, range));
    return hit ? { ok: false, kind: hit.kind } : { ok: true };
}
/** The entries of an allow-list (WEBHOOK_ALLOW_PRIVATE) that are not valid CIDR ranges. */
export function invalidAllowEntries(entries) {
    return entries.filter((e) => parseCidr(e) === undefined);
}
/**
 * The built-in rules with an allow-list of ranges for private receivers: an address in an allowed range is let
 * through whatever its kind, except cloud metadata addresses, which are never a webhook receiver.
 */
export function addressPolicy(allow) {
    const bad = invalidAllowEntries(allow);
    if (bad.length)
        throw new Error(`not CIDR ranges: ${bad.join(', ')}`);
    const ranges = allow.map((e) => parseCidr(e));
    return {
        check(address) {
            const verdict = classifyAddress(address);
            if (verdict.ok || verdict.kind === 'metadata' || verdict.kind === 'invalid')
                return verdict;
            const ip = normalise(parseIp(address));
            return ranges.some((r) => inCidr(ip, r)) ? { ok: true } : verdict;
        },
    };
}
//# sourceMappingURL=address-policy.js.map