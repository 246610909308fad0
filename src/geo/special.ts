/**
 * Address blocks that say nothing about where a client is (RFC 6890 and the
 * IANA special-purpose registries): they route to a service's default.
 */
export type SpecialKind = 'private' | 'loopback' | 'link-local' | 'cgnat' | 'documentation' | 'multicast' | 'reserved' | 'unspecified';

export const SPECIAL_NETWORKS: readonly (readonly [string, SpecialKind])[] = [
  ['0.0.0.0/8', 'unspecified'], // RFC 791 "this network"
  ['10.0.0.0/8', 'private'], // RFC 1918
  ['100.64.0.0/10', 'cgnat'], // RFC 6598
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'], // RFC 3927
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'], // RFC 6890 IETF protocol assignments
  ['192.0.2.0/24', 'documentation'], // RFC 5737
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'reserved'], // RFC 2544 benchmarking
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'], // RFC 1112, and 255.255.255.255
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['100::/64', 'reserved'], // RFC 6666 discard-only
  ['2001:db8::/32', 'documentation'], // RFC 3849
  ['3fff::/20', 'documentation'], // RFC 9637
  ['fc00::/7', 'private'], // RFC 4193 unique local
  ['fe80::/10', 'link-local'],
  ['ff00::/8', 'multicast'],
];
