/**
 * Cloud metadata services answer anyone on the machine with its cloud credentials
 * (http://169.254.169.254/latest/meta-data/iam/… on AWS, metadata.google.internal on GCP,
 * 169.254.169.254 on Azure, Oracle, DigitalOcean, OpenStack; 100.100.100.200 on Alibaba;
 * fd00:ec2::254 for AWS over IPv6). A URL the platform itself fetches (a repository today,
 * notification and forge URLs later) must not name one unless the operator allows it
 * (ANSFLOW_ALLOW_METADATA_ADDRESSES).
 *
 * The same address has many spellings: resolvers (inet_aton) accept 2852039166, 0xa9fea9fe,
 * 0251.0376.0251.0376, 169.254.43518, a trailing dot, and IPv6 wraps IPv4 in ::ffff:a.b.c.d.
 * The WHATWG URL parser (as used for http URLs) folds every IPv4 spelling into dotted form and
 * IPv6 into its compressed form, so the check runs on what it produces, whatever the URL's scheme.
 *
 * What this cannot see: a DNS name that resolves to such an address (it is checked before any
 * lookup). The step sandbox's network settings are the defence for that.
 */

/** Names that resolve to a metadata service inside their cloud (compared lower-case, without trailing dots). */
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal']);

/** Single IPv4 metadata addresses outside 169.254.0.0/16. */
const METADATA_IPV4 = new Set(['100.100.100.200']);

/** Single IPv6 metadata addresses, in the compressed form the URL parser produces. */
const METADATA_IPV6 = new Set(['fd00:ec2::254']);

/**
 * True when `host` (a URL's host: a name, an IPv4 address in any spelling, or `[IPv6]`) names a
 * cloud metadata service or a link-local address (169.254.0.0/16, fe80::/10), where such services live.
 */
export function isMetadataHost(host: string): boolean {
  const name = host.trim().toLowerCase().replace(/\.+$/, '');
  if (name === '') return false;
  if (METADATA_NAMES.has(name)) return true;
  const normalised = normaliseHost(name);
  if (normalised === null) return false;
  if (normalised.startsWith('[')) return isMetadataIpv6(normalised.slice(1, -1));
  return isMetadataIpv4(normalised);
}

/** The host as the WHATWG URL parser writes it for an http URL, or null if it is not a valid host. */
function normaliseHost(host: string): string | null {
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    return null;
  }
}

function isMetadataIpv4(host: string): boolean {
  const parts = host.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return false;
  return host.startsWith('169.254.') || METADATA_IPV4.has(host);
}

function isMetadataIpv6(address: string): boolean {
  if (METADATA_IPV6.has(address)) return true;
  const groups = ipv6Groups(address);
  if (groups === null) return false;
  // fe80::/10: link-local.
  if ((groups[0]! & 0xffc0) === 0xfe80) return true;
  const embedsIpv4 =
    (groups.slice(0, 5).every((g) => g === 0) && (groups[5] === 0xffff || groups[5] === 0)) || // ::ffff:a.b.c.d and ::a.b.c.d
    (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0)); // NAT64 64:ff9b::a.b.c.d
  if (!embedsIpv4) return false;
  const v4 = [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  return isMetadataIpv4(v4);
}

/** Eight 16-bit groups of an IPv6 address as the URL parser serialises it (hex groups, one `::`). */
function ipv6Groups(address: string): number[] | null {
  const halves = address.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}
