import { GeocdnError } from '../core/errors.js';
import { formatCidr, type IpAddress } from './address.js';
import { MmdbFile } from './mmdb.js';
import { toGeoRecord, type GeoRecord } from './record.js';

/** Records kept decoded at most; past it the cache starts over (a scan of every network cannot grow memory for ever). */
const MAX_CACHED_RECORDS = 1_000_000;

/** Where a walk of the GeoIP tree ended; one per caller, reused across queries. */
export class GeoWalk {
  /** The file walked, or undefined when no database covers the family. */
  file: MmdbFile | undefined = undefined;
  /** Leaf record value: data (file.isData), or "no data". */
  value = 0;
  /** Prefix length of the leaf's network. */
  depth = 0;
  /** path[d] is the tree node at depth d on the way to the leaf. */
  readonly path = new Int32Array(129);
}

/**
 * City (or country) databases for both families: one file with both, or an
 * IPv4 file and an IPv6 file (as the ip-location-db packages ship them).
 * Owns the decoded-record cache, so each snapshot has its own.
 */
export class GeoIpDatabase {
  readonly files: readonly MmdbFile[];
  private readonly v4: MmdbFile | undefined;
  private readonly v6: MmdbFile | undefined;
  private readonly records = new Map<MmdbFile, Map<number, GeoRecord | null>>();

  constructor(files: MmdbFile[]) {
    this.files = files;
    this.v4 = files.find((f) => f.ipVersion === 4) ?? files.find((f) => f.ipVersion === 6);
    this.v6 = files.find((f) => f.ipVersion === 6);
    for (const f of files) this.records.set(f, new Map());
  }

  static async open(paths: readonly string[]): Promise<GeoIpDatabase> {
    const files = await Promise.all(paths.map((p) => MmdbFile.open(p)));
    const v4only = files.filter((f) => f.ipVersion === 4);
    const v6 = files.filter((f) => f.ipVersion === 6);
    if (v4only.length > 1 || v6.length > 1) {
      throw new GeocdnError(
        'GEOCDN_GEOIP_READ',
        `give at most one IPv4 and one IPv6 database (got ${v4only.length} IPv4 and ${v6.length} IPv6)`,
        { file: paths[0]! },
      );
    }
    return new GeoIpDatabase(files);
  }

  fileFor(family: 4 | 6): MmdbFile | undefined {
    return family === 4 ? this.v4 : this.v6;
  }

  /** Walks to the leaf holding `bytes`; fills `w`. */
  walk(family: 4 | 6, bytes: Uint8Array, w: GeoWalk): void {
    const file = family === 4 ? this.v4 : this.v6;
    w.file = file;
    if (!file) {
      w.value = 0;
      w.depth = 0;
      return;
    }
    w.value = file.walk(family, bytes, w.path, w);
  }

  /**
   * The record behind a leaf value, decoded once. `bytes` is any address
   * inside the leaf's network (the reader finds records by address only).
   */
  record(file: MmdbFile, value: number, family: 4 | 6, bytes: Uint8Array): GeoRecord | undefined {
    if (!file.isData(value)) return undefined;
    const cache = this.records.get(file)!;
    let r = cache.get(value);
    if (r === undefined) {
      if (cache.size >= MAX_CACHED_RECORDS) cache.clear();
      r = toGeoRecord(file.decodeAt(family, bytes)) ?? null;
      cache.set(value, r);
    }
    return r ?? undefined;
  }

  /** Everything known about one address, for `lookup` and the director (cold path). */
  locate(ip: IpAddress): { network: string; prefix: number; record: GeoRecord | undefined; file: MmdbFile | undefined } {
    const w = new GeoWalk();
    this.walk(ip.family, ip.bytes, w);
    const record = w.file ? this.record(w.file, w.value, ip.family, ip.bytes) : undefined;
    return { network: formatCidr(ip.family, ip.bytes, w.depth), prefix: w.depth, record, file: w.file };
  }
}
