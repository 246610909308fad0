import { type ClientAddress, clientFromText, unmapIpv4 } from '../geo/address.js';
import type { GeoRouting } from '../routing/types.js';
import { type AnswerSections, appendOpt, optLength, writeAnswer } from './answer-writer.js';
import { chaosAnswer, type ServerIdentity } from './chaos.js';
import { type GeoLabel, QueryCounters } from './counters.js';
import { EdnsOption, Rcode, RRClass, RRType } from './wire/constants.js';
import type { Edns } from './wire/edns.js';
import { clientSubnetAddress } from './wire/edns.js';
import type { Name } from './wire/name.js';
import { CD, parseQuery, type Query, queryName, QR, RD } from './wire/query.js';
import { MessageWriter } from './wire/writer.js';
import { resolve, type ZoneSet } from './zone/lookup.js';
import type { RRset } from './zone/zone.js';

export type { ClientAddress };

/** The records of geo-routed names; implemented over the routing module. */
export interface GeoAnswerSource<S> {
  service(nameKey: string): S | undefined;
  isDirector(service: S): boolean;
  /** A or AAAA records (ANY answers A) of `service` for this client; `variant` names the choice for the answer cache. */
  answer(service: S, qtype: number, client: ClientAddress): { rrset: RRset | undefined; scopePrefix: number; variant: number };
  /** The director's TXT record for this client. */
  directorTxt(service: S, client: ClientAddress): { rrset: RRset; scopePrefix: number };
  /** What answers of this service and variant are counted under (variant -1: the director's TXT). */
  label?(service: S, variant: number): GeoLabel;
}

/** One immutable view of everything the nameserver answers from; a reload swaps it whole. */
export interface DnsSnapshot {
  readonly zones: ZoneSet;
  readonly geo: GeoAnswerSource<unknown> | undefined;
  /** The geo routing the answers come from, for status and lookup. */
  readonly routing: GeoRouting | undefined;
  readonly version: string;
}

export interface Transport {
  tcp: boolean;
  /** The packet's source address as node reports it. */
  address: string;
  family: 4 | 6;
}

type CacheEntry =
  | { kind: 'static'; bytes: Buffer }
  | { kind: 'geo'; service: unknown; qname: Name; qtype: number; sections: AnswerSections; variants: Map<number, Buffer> };

const MAX_CACHE_ENTRIES = 100_000;

/**
 * The query pipeline: bytes in, bytes out. Answers that depend only on the
 * question are built once per snapshot and kept as finished messages; a
 * repeat costs a Map read and a copy with the query's ID, flags and question
 * bytes patched in. Geo answers are kept per (question, POP choice).
 */
export class Responder {
  private snapshot: DnsSnapshot;
  private cache = new Map<string, CacheEntry>();
  private readonly writer = new MessageWriter();
  private readonly maxUdpPayload: number;
  private readonly identity: ServerIdentity;
  /** The NSID option's payload (RFC 5001), sent to queries that ask for it. */
  private readonly nsid: Buffer | undefined;
  /** Answers per RCODE and per geo service and POP; the server counts every answer, the responder names the geo ones. */
  readonly counters = new QueryCounters();

  constructor(snapshot: DnsSnapshot, options: { maxUdpPayload: number; identity?: ServerIdentity }) {
    this.snapshot = snapshot;
    this.maxUdpPayload = options.maxUdpPayload;
    this.identity = options.identity ?? { id: undefined, version: undefined };
    this.nsid = this.identity.id === undefined ? undefined : Buffer.from(this.identity.id, 'utf8').subarray(0, 512);
  }

  /** Swaps in a new snapshot; the next query reads it, the running one finishes on the old. */
  swap(snapshot: DnsSnapshot): void {
    this.snapshot = snapshot;
    this.cache = new Map();
    this.counters.retire();
  }

  get current(): DnsSnapshot {
    return this.snapshot;
  }

  respond(packet: Buffer, from: Transport): Buffer | undefined {
    const parsed = parseQuery(packet);
    if (parsed.kind === 'drop') return undefined;
    if (parsed.kind === 'error') return this.finish(headerOnly(packet, parsed.id, parsed.flags, parsed.rcode, parsed.questionEnd), parsed.edns, 0, 0);
    const q = parsed.query;
    const edns = q.edns;
    if (edns && edns.version > 0) {
      this.counters.badvers++;
      return this.finish(headerOnly(packet, q.id, q.flags, 0, q.questionEnd), edns, Rcode.BADVERS, 0);
    }
    if (q.qclass === RRClass.CH) return this.chaos(q);
    if (q.qclass !== RRClass.IN && q.qclass !== RRClass.ANY) return this.finish(headerOnly(packet, q.id, q.flags, Rcode.REFUSED, q.questionEnd), edns, 0, 0);
    if (isMetaType(q.qtype)) {
      const rcode = q.qtype === RRType.AXFR || q.qtype === RRType.IXFR ? Rcode.REFUSED : Rcode.FORMERR;
      return this.finish(headerOnly(packet, q.id, q.flags, rcode, q.questionEnd), edns, 0, 0);
    }
    const limit = from.tcp ? 65535 : edns ? Math.max(512, Math.min(edns.udpSize, this.maxUdpPayload)) : 512;

    const key = q.cacheKey;
    const entry = key === undefined ? undefined : this.cache.get(key);
    if (entry?.kind === 'static') return this.emit(entry.bytes, q, limit, 0, undefined);
    if (entry?.kind === 'geo') return this.geoAnswer(entry, q, from, limit);

    const snapshot = this.snapshot;
    const qname = queryName(q);
    const geo = snapshot.geo;
    const res = resolve(snapshot.zones, qname, q.qtype, geo ? (k) => geo.service(k) : noService);
    if (res.geo && geo) {
      const { service, name } = res.geo;
      const g: CacheEntry = { kind: 'geo', service, qname: name, qtype: q.qtype, sections: res, variants: new Map() };
      if (key !== undefined) this.remember(key, g);
      return this.geoAnswer(g, q, from, limit);
    }
    if (geo && res.zone && q.qtype === RRType.TXT && res.answer.length === 0 && res.rcode === Rcode.NOERROR) {
      const service = geo.service(qname.key);
      if (service !== undefined && geo.isDirector(service)) return this.directorTxt(service, q, qname, from, limit);
    }
    writeAnswer(this.writer, q, qname, res, 65535);
    const bytes = this.writer.finish();
    if (key !== undefined) this.remember(key, { kind: 'static', bytes });
    return this.emit(bytes, q, limit, 0, () => res);
  }

  /** id.server, version.bind and their kin (RFC 4892): who answered, for operators of several nameservers. */
  private chaos(q: Query): Buffer {
    const { header, answer } = chaosAnswer(q, queryName(q).key, this.identity);
    const head = headerOnly(q.packet, q.id, q.flags, 0, q.questionEnd);
    head.writeUInt16BE(header, 2);
    if (!answer) return this.finish(head, q.edns, 0, 0);
    const message = Buffer.concat([head, answer]);
    message.writeUInt16BE(1, 6);
    return this.finish(message, q.edns, 0, 0);
  }

  private geoAnswer(entry: Extract<CacheEntry, { kind: 'geo' }>, q: Query, from: Transport, limit: number): Buffer {
    const geo = this.snapshot.geo!;
    const client = clientAddress(q.edns, from);
    const choice = geo.answer(entry.service, entry.qtype, client);
    this.counters.geoAnswered(entry.service, choice.variant, geo);
    let bytes = entry.variants.get(choice.variant);
    // The sections are only needed to build a new variant or to cut one that is too big.
    const sections = () => this.geoSections(entry, choice.rrset);
    if (!bytes) {
      writeAnswer(this.writer, q, queryName(q), sections(), 65535);
      bytes = this.writer.finish();
      entry.variants.set(choice.variant, bytes);
    }
    return this.emit(bytes, q, limit, choice.scopePrefix, sections);
  }

  private geoSections(entry: Extract<CacheEntry, { kind: 'geo' }>, rrset: RRset | undefined): AnswerSections {
    const base = entry.sections;
    if (rrset) return { ...base, answer: [...base.answer, rrset] };
    // No address of this family at the chosen POP: NODATA (RFC 2308 §2.2).
    const zone = this.snapshot.zones.find(entry.qname);
    return zone ? { ...base, authority: [{ ...zone.soa, ttl: zone.negativeTtl }] } : base;
  }

  private directorTxt(service: unknown, q: Query, qname: Name, from: Transport, limit: number): Buffer {
    const { rrset, scopePrefix } = this.snapshot.geo!.directorTxt(service, clientAddress(q.edns, from));
    this.counters.geoAnswered(service, -1, this.snapshot.geo);
    const sections: AnswerSections = { rcode: 0, aa: true, answer: [{ ...rrset, name: qname }], authority: [], additional: [], glueRequired: false };
    writeAnswer(this.writer, q, qname, sections, 65535);
    return this.emit(this.writer.finish(), q, limit, scopePrefix, () => sections);
  }

  /**
   * Turns a finished message (built for a query with the same question) into
   * the answer to `q`: ID, RD/CD and the question's letter case patched in,
   * OPT appended. Too big for the client: rebuilt cut to size with TC.
   */
  private emit(template: Buffer, q: Query, limit: number, scopePrefix: number, sections: (() => AnswerSections) | undefined): Buffer {
    const edns = q.edns;
    const nsid = this.nsidFor(edns);
    const optLen = edns ? optLength(edns, nsid) : 0;
    if (template.length + optLen > limit) {
      const s = sections ? sections() : resolveAgain(this.snapshot, q);
      writeAnswer(this.writer, q, queryName(q), s, limit - optLen);
      template = this.writer.finish();
    }
    const out = Buffer.allocUnsafe(template.length + optLen);
    template.copy(out, 0);
    out.writeUInt16BE(q.id, 0);
    out.writeUInt16BE((template.readUInt16BE(2) & ~(RD | CD)) | (q.flags & (RD | CD)), 2);
    q.packet.copy(out, 12, 12, q.qnameEnd);
    if (edns) appendOpt(out, template.length, edns, this.maxUdpPayload, 0, scopePrefix, nsid);
    return out;
  }

  private finish(header: Buffer, edns: Edns | undefined, extendedRcode: number, scopePrefix: number): Buffer {
    if (!edns) return header;
    const nsid = this.nsidFor(edns);
    const out = Buffer.allocUnsafe(header.length + optLength(edns, nsid));
    header.copy(out, 0);
    appendOpt(out, header.length, edns, this.maxUdpPayload, extendedRcode >> 4, scopePrefix, nsid);
    if (extendedRcode) out.writeUInt16BE((out.readUInt16BE(2) & ~0xf) | (extendedRcode & 0xf), 2);
    return out;
  }

  /** RFC 5001 §2.1: NSID only to a query whose OPT asks for it (an empty NSID option). */
  private nsidFor(edns: Edns | undefined): Buffer | undefined {
    if (!this.nsid || !edns || edns.options.length === 0) return undefined;
    return edns.options.some((o) => o.code === EdnsOption.NSID) ? this.nsid : undefined;
  }

  private remember(key: string, entry: CacheEntry): void {
    if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.clear();
    this.cache.set(key, entry);
  }
}

const noService = (): undefined => undefined;

function resolveAgain(snapshot: DnsSnapshot, q: Query): AnswerSections {
  return resolve(snapshot.zones, queryName(q), q.qtype, noService);
}

/** Meta-types that are not answered from zone data (RFC 6895 §3.1). */
function isMetaType(t: number): boolean {
  return t === RRType.OPT || (t >= 128 && t <= 254 && t !== 255) || t === 0;
}

/** A response of header and (when parsable) question only. */
function headerOnly(packet: Buffer, id: number, flags: number, rcode: number, questionEnd: number): Buffer {
  const out = Buffer.alloc(questionEnd);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(QR | (flags & (0x7800 | RD | CD)) | (rcode & 0xf), 2);
  if (questionEnd > 12) {
    out.writeUInt16BE(1, 4);
    packet.copy(out, 12, 12, questionEnd);
  }
  return out;
}

export function clientAddress(edns: Edns | undefined, from: Transport): ClientAddress {
  const ecs = edns?.ecs;
  if (ecs && ecs.sourcePrefix > 0) return { family: ecs.family === 1 ? 4 : 6, bytes: clientSubnetAddress(ecs), sourcePrefix: ecs.sourcePrefix };
  const client = clientFromText(from.address.split('%')[0]);
  return client ? unmapIpv4(client) : { family: from.family, bytes: new Uint8Array(from.family === 4 ? 4 : 16), sourcePrefix: 0 };
}
