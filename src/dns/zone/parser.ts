import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { GeocdnError, GeocdnErrors } from '../../core/errors.js';
import { RRClass } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/rdata.js';
import { ZoneLexer, type Entry, type Token } from './lexer.js';
import { parseName, parseTtl, startsWithDigit, ZoneSyntaxError } from './parse-fields.js';
import { checkClass, classOf, parseType, ZoneType } from './parse-types.js';
import { parseRdata } from './rdata-text.js';

/**
 * BIND master-file parser (RFC 1035 §5). Every error is collected, with the
 * file and the line its entry starts on, and thrown together at the end so
 * an operator fixes a zone in one pass.
 */
export interface ZoneRecord extends ResourceRecord {
  file: string;
  line: number;
}

export interface ParsedZone {
  origin: Name;
  records: ZoneRecord[];
  /** Things BIND warns about and loads anyway (a TTL taken from the SOA MINIMUM). */
  warnings?: GeocdnError[];
}

const MAX_INCLUDE_DEPTH = 16;

/** State shared by a file and the files it includes: $TTL outlives an $INCLUDE, as in BIND. */
interface LoadState {
  zoneOrigin: Name;
  records: ZoneRecord[];
  errors: GeocdnError[];
  warnings: GeocdnError[];
  /** From $TTL, or the SOA MINIMUM when neither came first. */
  defaultTtl: number | undefined;
  /** The last TTL written on a record (RFC 1035 §5.1 default without $TTL). */
  lastTtl: number | undefined;
}

/** Per file: RFC 1035 §5.1 says an $INCLUDE never changes the includer's origin. */
interface FileContext {
  file: string;
  origin: Name;
  owner: Name | undefined;
  ownerText: string | undefined;
  ownerOrigin: Name | undefined;
  /** Resolved paths of the files being read, outermost first. */
  chain: string[];
}

export function parseZoneFile(path: string, origin: Name): ParsedZone {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (e) {
    throw new GeocdnErrors([new GeocdnError('GEOCDN_ZONE_READ', `cannot read zone file: ${(e as Error).message}`, { file: path })]);
  }
  return parseRoot(text, path, origin, [resolve(path)]);
}

export function parseZoneText(text: string, file: string, origin: Name): ParsedZone {
  return parseRoot(text, file, origin, [resolve(file)]);
}

function parseRoot(text: string, file: string, origin: Name, chain: string[]): ParsedZone {
  const state: LoadState = { zoneOrigin: origin, records: [], errors: [], warnings: [], defaultTtl: undefined, lastTtl: undefined };
  parseInto(state, text, { file, origin, owner: undefined, ownerText: undefined, ownerOrigin: undefined, chain });
  if (state.errors.length > 0) throw new GeocdnErrors(state.errors);
  return { origin, records: state.records, warnings: state.warnings };
}

function parseInto(state: LoadState, text: string, ctx: FileContext): void {
  const lexer = new ZoneLexer(text);
  for (let entry = lexer.next(); entry; entry = lexer.next()) {
    if (entry.error) {
      syntaxError(state, ctx, entry.error.message, entry.error.line);
      continue;
    }
    try {
      parseEntry(state, ctx, entry);
    } catch (e) {
      if (!(e instanceof ZoneSyntaxError)) throw e;
      syntaxError(state, ctx, e.message, entry.line);
    }
  }
}

function syntaxError(state: LoadState, ctx: FileContext, message: string, line: number): void {
  state.errors.push(new GeocdnError('GEOCDN_ZONE_SYNTAX', message, { file: ctx.file, line }));
}

function parseEntry(state: LoadState, ctx: FileContext, entry: Entry): void {
  const first = entry.tokens[0];
  if (!entry.ownerBlank && !first.quoted && first.text.startsWith('$')) parseDirective(state, ctx, entry);
  else parseRecord(state, ctx, entry);
}

// ---------- directives (RFC 1035 §5.1, RFC 2308 §4 for $TTL) ----------

function parseDirective(state: LoadState, ctx: FileContext, entry: Entry): void {
  const [directive, ...args] = entry.tokens;
  const name = directive.text.toUpperCase();
  switch (name) {
    case '$ORIGIN':
      expectArgs(name, args, 1, 1);
      ctx.origin = parseName(args[0].text, ctx.origin);
      return;
    case '$TTL':
      expectArgs(name, args, 1, 1);
      state.defaultTtl = parseTtl(args[0].text, '$TTL');
      return;
    case '$INCLUDE':
      expectArgs(name, args, 1, 2);
      includeFile(state, ctx, entry, args);
      return;
    case '$GENERATE':
      throw new ZoneSyntaxError('$GENERATE is not supported: write the records out');
    default:
      throw new ZoneSyntaxError(`unknown directive ${directive.text}`);
  }
}

function expectArgs(directive: string, args: Token[], min: number, max: number): void {
  if (args.length < min) throw new ZoneSyntaxError(`${directive}: missing argument`);
  if (args.length > max) throw new ZoneSyntaxError(`${directive}: unexpected extra field "${args[max].text}"`);
}

function includeFile(state: LoadState, ctx: FileContext, entry: Entry, args: Token[]): void {
  const file = isAbsolute(args[0].text) ? args[0].text : join(dirname(ctx.file), args[0].text);
  const origin = args[1] ? parseName(args[1].text, ctx.origin) : ctx.origin;
  const resolved = resolve(file);
  if (ctx.chain.includes(resolved)) {
    throw new ZoneSyntaxError(`$INCLUDE loop: ${[...ctx.chain, resolved].join(' -> ')}`);
  }
  if (ctx.chain.length > MAX_INCLUDE_DEPTH) {
    throw new ZoneSyntaxError(`$INCLUDE nested deeper than ${MAX_INCLUDE_DEPTH} files`);
  }
  let text: string;
  try {
    text = readFileSync(file, 'latin1');
  } catch (e) {
    state.errors.push(new GeocdnError('GEOCDN_ZONE_READ', `cannot read $INCLUDE file: ${(e as Error).message}`, { file: ctx.file, line: entry.line }));
    return;
  }
  // BIND lets the included file start with a blank owner (the includer's current one).
  parseInto(state, text, { ...ctx, file, origin, chain: [...ctx.chain, resolved] });
}

// ---------- records: [owner] [TTL] [class] type rdata, TTL and class in either order ----------

function parseRecord(state: LoadState, ctx: FileContext, entry: Entry): void {
  const tokens = entry.tokens;
  let i = 0;
  const owner = entry.ownerBlank ? ctx.owner : ownerName(ctx, tokens[i++]);
  if (!owner) throw new ZoneSyntaxError('no owner name: the first record must start in column 1');
  let ttl: number | undefined;
  let classSeen = false;
  for (;;) {
    const t = tokens[i];
    if (!t) throw new ZoneSyntaxError('missing RR type');
    const cls = classSeen || t.quoted ? undefined : classOf(t.text);
    if (ttl === undefined && !t.quoted && startsWithDigit(t.text)) {
      ttl = parseTtl(t.text);
    } else if (cls !== undefined) {
      checkClass(t.text, cls);
      classSeen = true;
    } else {
      break;
    }
    i++;
  }
  if (tokens[i].quoted) throw new ZoneSyntaxError(`expected an RR type, got the quoted string "${tokens[i].text}"`);
  const type = parseType(tokens[i].text);
  if (!owner.isSubdomainOf(state.zoneOrigin)) {
    throw new ZoneSyntaxError(`out-of-zone owner name ${owner.toString()} (not under ${state.zoneOrigin.toString()}); named-checkzone ignores such data`);
  }
  const data = parseRdata(type, tokens, i + 1, ctx.origin);
  const recordTtl = ttl ?? defaultTtl(state, ctx, entry, type, data.kind === 'soa' ? data.minimum : undefined);
  if (ttl !== undefined) state.lastTtl = ttl;
  state.records.push({ name: owner, type, class: RRClass.IN, ttl: recordTtl, data, file: ctx.file, line: entry.line });
}

/** Owners repeat a lot in big zones: reuse the last Name when the text and origin match. */
function ownerName(ctx: FileContext, t: Token): Name {
  if (t.text === ctx.ownerText && ctx.origin === ctx.ownerOrigin && ctx.owner) return ctx.owner;
  const name = parseName(t.text, ctx.origin);
  ctx.owner = name;
  ctx.ownerText = t.text;
  ctx.ownerOrigin = ctx.origin;
  return name;
}

/**
 * The TTL of a record written without one, as BIND decides it: $TTL, else
 * the last explicit TTL (RFC 1035 §5.1), else — for the SOA only — its
 * MINIMUM, which then serves as $TTL. A non-SOA record before all of these
 * is refused, as BIND does ("no TTL specified; zone rejected").
 */
function defaultTtl(state: LoadState, ctx: FileContext, entry: Entry, type: number, soaMinimum: number | undefined): number {
  if (state.defaultTtl !== undefined) return state.defaultTtl;
  if (state.lastTtl !== undefined) return state.lastTtl;
  if (type !== ZoneType.SOA || soaMinimum === undefined) {
    throw new ZoneSyntaxError('no TTL specified: add a $TTL line, a TTL on this record, or put the SOA first');
  }
  const ttl = parseTtl(String(soaMinimum), 'SOA MINIMUM used as TTL');
  state.defaultTtl = ttl;
  state.warnings.push(new GeocdnError('GEOCDN_ZONE_SYNTAX', `no TTL specified; using the SOA MINIMUM ${ttl} instead`, { file: ctx.file, line: entry.line }, 'add a $TTL line'));
  return ttl;
}
