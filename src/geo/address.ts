/**
 * IP addresses as bytes: parsing and printing for config and CLI (cold
 * paths), and the small bit helpers the per-query code uses.
 */

/** Where a query comes from: the ECS address when its source prefix is > 0, else the packet's source. */
export interface ClientAddress {
  family: 4 | 6;
  /** 4 or 16 bytes; bits past `sourcePrefix` are zero. */
  bytes: Uint8Array;
  /** ECS source prefix, or 32/128 for a packet source. */
  sourcePrefix: number;
}

import { formatIp, parseIpv4, parseIpv6 } from '../core/ip.js';

export { formatIp, parseIpv4, parseIpv6 };

export interface IpAddress {
  family: 4 | 6;
  bytes: Uint8Array;
}

export interface Cidr extends IpAddress {
  prefix: number;
}

export function parseIp(text: string): IpAddress | undefined {
  const v4 = parseIpv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseIpv6(text);
  return v6 ? { family: 6, bytes: v6 } : undefined;
}

/** `addr/len`; a bare address is a host route. Returns an error text for bits set past the prefix. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return `"${text}" is not an IP network (expected e.g. 10.0.0.0/8 or 2001:db8::/32)`;
  const max = ip.family === 4 ? 32 : 128;
  const lenText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) return `"${text}": prefix length must be 0..${max}`;
  const prefix = Number(lenText);
  if (!hostBitsZero(ip.bytes, prefix)) {
    const net = maskBytes(ip.bytes, prefix);
    return `"${text}" has bits set past /${prefix} (did you mean ${formatIp(ip.family, net)}/${prefix}?)`;
  }
  return { ...ip, prefix };
}

export function formatCidr(family: 4 | 6, bytes: Uint8Array, prefix: number): string {
  return `${formatIp(family, maskBytes(bytes, prefix))}/${prefix}`;
}

export function bitAt(bytes: Uint8Array, i: number): number {
  return (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
}

export function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = prefix - i * 8;
    out[i] = bits >= 8 ? bytes[i]! : bits <= 0 ? 0 : bytes[i]! & (0xff << (8 - bits));
  }
  return out;
}

function hostBitsZero(bytes: Uint8Array, prefix: number): boolean {
  const masked = maskBytes(bytes, prefix);
  for (let i = 0; i < bytes.length; i++) if (masked[i] !== bytes[i]) return false;
  return true;
}

/** A client from text, as `geocdn lookup` and tests take it: `IP` or `IP/len` (an ECS prefix). */
export function clientFromText(text: string): ClientAddress | undefined {
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  const prefix = slash < 0 ? max : Number(text.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return undefined;
  return { family: ip.family, bytes: maskBytes(ip.bytes, prefix), sourcePrefix: prefix };
}

/** `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2) is an IPv4 client; anything else is returned as is. */
export function unmapIpv4(client: ClientAddress): ClientAddress {
  if (client.family !== 6 || client.sourcePrefix < 96) return client;
  const b = client.bytes;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return client;
  if (b[10] !== 0xff || b[11] !== 0xff) return client;
  return { family: 4, bytes: b.subarray(12, 16), sourcePrefix: client.sourcePrefix - 96 };
}
