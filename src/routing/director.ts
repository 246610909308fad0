import { formatIp, type ClientAddress } from '../geo/address.js';
import { COUNTRIES, CONTINENT_CODES } from '../geo/countries.js';
import type { Location } from '../geo/locator.js';
import type { CompiledPop, RouteDecision } from './types.js';

/** RFC 1035 §3.3: a TXT character-string holds at most 255 bytes. */
const MAX_TXT = 255;

/**
 * The director's first string, in the PowerDNS geoip backend's form the
 * Parrot CDN shows (`%ip %af city %ci country %co %cc state %cn region %re
 * name %na as %as`), lowercase, `unknown` for what is not known.
 */
export function describeLocation(client: ClientAddress, loc: Location): string {
  const full = client.family === 4 ? 32 : 128;
  const ip = formatIp(client.family, client.bytes) + (client.sourcePrefix < full ? `/${client.sourcePrefix}` : '');
  const r = loc.record;
  const word = (s: string | undefined) => (s ? s.toLowerCase() : 'unknown');
  const country = r && r.country ? `${word(COUNTRIES.alpha2[r.country])} ${word(COUNTRIES.alpha3[r.country])}` : 'unknown unknown';
  const parts = [
    `ip ${ip} v${client.family}`,
    `city ${word(r?.city)}`,
    `country ${country}`,
    `state ${word(r && r.continent ? CONTINENT_CODES[r.continent] : undefined)}`,
    `region ${word(r?.region)}`,
    `name ${word(loc.asn?.org)}`,
    `as ${loc.asn ? `as${loc.asn.asn}` : 'unknown'}`,
  ];
  return fitTxt(parts.join(' '));
}

/** The second string: what the CDN decided, `pop eu-milan rule country:IT` (plus `failover N`, `all-down`). */
export function describeDecision(pops: readonly CompiledPop[], d: RouteDecision): string {
  let s = `pop ${pops[d.pop]!.name} rule ${d.rule}`;
  if (d.allDown) s += ' all-down';
  else if (d.rank > 0) s += ` failover ${d.rank}`;
  return fitTxt(s);
}

/** Cuts a string to 255 UTF-8 bytes without splitting a character. */
export function fitTxt(s: string): string {
  if (Buffer.byteLength(s) <= MAX_TXT) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > MAX_TXT) break;
    out += ch;
    bytes += n;
  }
  return out;
}
