import { open } from 'node:fs/promises';
import { GeocdnError } from '../core/errors.js';
import { parseCidr, type IpAddress } from './address.js';
import { CsvAsnSource, MmdbAsnSource, type AsnSource } from './asn.js';
import { embeddedDatabases } from './embedded.js';
import { GeoIpDatabase } from './geoip.js';
import { MmdbFile } from './mmdb.js';
import { PrefixTrie } from './prefix-trie.js';
import type { AsnInfo, GeoRecord } from './record.js';
import { SPECIAL_NETWORKS, type SpecialKind } from './special.js';

/** Which databases to open: file paths, or 'default' for the embedded ones. */
export interface GeoSources {
  city: 'default' | readonly string[];
  asn: 'default' | 'none' | readonly string[];
}

/** All that is known about one address (for `lookup` and the director; not the per-query path). */
export interface Location {
  ip: IpAddress;
  /** The GeoIP network holding the address (or the special block). */
  network: string;
  special: SpecialKind | undefined;
  record: GeoRecord | undefined;
  asn: AsnInfo | undefined;
}

/** The GeoIP and ASN databases of one snapshot, plus the special-purpose blocks. */
export class GeoLocator {
  private readonly special4 = new PrefixTrie<SpecialKind>();
  private readonly special6 = new PrefixTrie<SpecialKind>();

  constructor(
    readonly db: GeoIpDatabase,
    readonly asn: AsnSource | undefined,
    /** The files it was opened from, for messages and `lookup`. */
    readonly sources: { city: readonly string[]; asn: readonly string[] },
  ) {
    for (const [text, kind] of SPECIAL_NETWORKS) {
      const c = parseCidr(text);
      if (typeof c === 'string') throw new Error(c);
      (c.family === 4 ? this.special4 : this.special6).insert(c.bytes, c.prefix, kind);
    }
    this.special4.freeze();
    this.special6.freeze();
  }

  /** Throws GeocdnError GEOCDN_GEOIP_READ for a missing or unreadable file. */
  static async open(sources: GeoSources): Promise<GeoLocator> {
    const embedded = sources.city === 'default' || sources.asn === 'default' ? embeddedDatabases() : undefined;
    const cityPaths = sources.city === 'default' ? embedded!.city : sources.city;
    const asnPaths = sources.asn === 'none' ? [] : sources.asn === 'default' ? [embedded!.asn.v4, embedded!.asn.v6] : sources.asn;
    const [db, asn] = await Promise.all([GeoIpDatabase.open(cityPaths), openAsn(asnPaths)]);
    return new GeoLocator(db, asn, { city: cityPaths, asn: asnPaths });
  }

  special(ip: IpAddress): SpecialKind | undefined {
    const out = { scope: 0, prefix: 0 };
    return (ip.family === 4 ? this.special4 : this.special6).lookup(ip.bytes, ip.family === 4 ? 32 : 128, out);
  }

  locate(ip: IpAddress): Location {
    const special = this.special(ip);
    const found = this.db.locate(ip);
    return {
      ip,
      network: found.network,
      special,
      record: found.record,
      asn: this.asn?.lookup(ip),
    };
  }
}

async function openAsn(paths: readonly string[]): Promise<AsnSource | undefined> {
  if (paths.length === 0) return undefined;
  const csv = paths.filter((p) => p.toLowerCase().endsWith('.csv'));
  const mmdb = paths.filter((p) => !p.toLowerCase().endsWith('.csv'));
  if (csv.length > 0 && mmdb.length > 0) {
    throw new GeocdnError('GEOCDN_GEOIP_READ', 'ASN sources must be all .mmdb or all .csv', { file: paths[0]! });
  }
  if (mmdb.length > 0) return new MmdbAsnSource(await Promise.all(mmdb.map((p) => MmdbFile.open(p))));
  const byFamily: { v4?: string; v6?: string } = {};
  for (const p of csv) {
    const first = (await firstLine(p)).split(',')[0]!;
    const family = first.includes(':') || (/^\d+$/.test(first) && Number(first) > 0xffffffff) ? 'v6' : 'v4';
    if (byFamily[family]) throw new GeocdnError('GEOCDN_GEOIP_READ', `two ASN CSV files for ${family}`, { file: p });
    byFamily[family] = p;
  }
  return CsvAsnSource.open(byFamily);
}

async function firstLine(path: string): Promise<string> {
  let fh;
  try {
    fh = await open(path, 'r');
    const buf = Buffer.alloc(256);
    const { bytesRead } = await fh.read(buf, 0, 256, 0);
    return buf.toString('latin1', 0, bytesRead).split('\n')[0]!;
  } catch (e) {
    throw new GeocdnError('GEOCDN_GEOIP_READ', `cannot read ASN database: ${(e as Error).message}`, { file: path });
  } finally {
    await fh?.close();
  }
}
