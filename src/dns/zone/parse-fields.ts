import { Name, NameError } from '../wire/name.js';
import type { Token } from './lexer.js';

/** A syntax error in one entry; the parser adds file and line. */
export class ZoneSyntaxError extends Error {}

export const MAX_TTL = 0x7fffffff;
const MAX_U32 = 0xffffffff;

function isDigitCode(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function startsWithDigit(text: string): boolean {
  return isDigitCode(text.charCodeAt(0));
}

function allDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isDigitCode(text.charCodeAt(i))) return false;
  return true;
}

const UNIT_SECONDS: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };

/**
 * A TTL or SOA timer: plain seconds, or units `1w2d3h4m5s` in any case (the
 * BIND extension). Returns undefined when the text is not a TTL; values up to
 * 2^32-1 (the caller applies the RFC 2181 §8 limit where it holds).
 */
export function parseTtlText(text: string): number | undefined {
  if (allDigits(text)) {
    const v = Number(text);
    return v <= MAX_U32 ? v : undefined;
  }
  let total = 0;
  let p = 0;
  while (p < text.length) {
    const start = p;
    while (p < text.length && isDigitCode(text.charCodeAt(p))) p++;
    if (p === start || p === text.length) return undefined; // "h" or "1h30"
    const unit = UNIT_SECONDS[text[p].toLowerCase()];
    if (unit === undefined) return undefined;
    const n = Number(text.slice(start, p));
    if (n > MAX_U32) return undefined;
    total += n * unit;
    p++;
  }
  return total <= MAX_U32 ? total : undefined;
}

/** A record or $TTL TTL, limited to 2^31-1 (RFC 2181 §8). */
export function parseTtl(text: string, what = 'TTL'): number {
  const v = parseTtlText(text);
  if (v === undefined) throw new ZoneSyntaxError(`bad ${what} "${text}" (seconds, or units like 1h30m, 2w, 1d)`);
  if (v > MAX_TTL) throw new ZoneSyntaxError(`${what} ${text} is larger than ${MAX_TTL} (RFC 2181 §8)`);
  return v;
}

export function parseName(text: string, origin: Name): Name {
  try {
    return Name.fromText(text, origin);
  } catch (e) {
    if (e instanceof NameError) throw new ZoneSyntaxError(`bad name "${text}": ${e.message}`);
    throw e;
  }
}

/**
 * Decodes `\X` and `\DDD` (RFC 1035 §5.1) into bytes. Text is read from the
 * file as latin1 (one char per byte); a char above 0xff can only come from a
 * JS string and is kept as UTF-8.
 */
export function decodeText(text: string): Uint8Array {
  if (text.indexOf('\\') < 0 && !/[^\x00-\xff]/.test(text)) return Buffer.from(text, 'latin1');
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) {
      i = decodeEscape(text, i, out);
    } else if (c > 0xff) {
      for (const b of Buffer.from(text[i], 'utf8')) out.push(b);
    } else {
      out.push(c);
    }
  }
  return Uint8Array.from(out);
}

/** Decodes the escape starting at text[i] (a backslash); returns the index of its last char. */
function decodeEscape(text: string, i: number, out: number[]): number {
  if (i + 1 >= text.length) throw new ZoneSyntaxError(`dangling backslash in "${text}"`);
  const next = text.charCodeAt(i + 1);
  if (!isDigitCode(next)) {
    if (next <= 0xff) out.push(next);
    else for (const b of Buffer.from(text[i + 1], 'utf8')) out.push(b);
    return i + 1;
  }
  const digits = text.slice(i + 1, i + 4);
  if (!allDigits(digits) || digits.length !== 3) throw new ZoneSyntaxError(`bad escape "\\${digits}" in "${text}" (\\DDD needs three digits)`);
  const v = Number(digits);
  if (v > 255) throw new ZoneSyntaxError(`bad escape "\\${digits}" in "${text}" (larger than 255)`);
  out.push(v);
  return i + 3;
}

const HEX_RE = /^[0-9a-fA-F]*$/;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

export function hexBytes(text: string, what: string): Uint8Array {
  if (!HEX_RE.test(text)) throw new ZoneSyntaxError(`${what}: bad hex "${text}"`);
  if (text.length % 2 !== 0) throw new ZoneSyntaxError(`${what}: hex has an odd number of digits`);
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

export function base64Bytes(text: string, what: string): Uint8Array {
  if (!BASE64_RE.test(text) || text.length % 4 !== 0) throw new ZoneSyntaxError(`${what}: bad base64 "${text.length > 40 ? `${text.slice(0, 40)}…` : text}"`);
  return Uint8Array.from(Buffer.from(text, 'base64'));
}

/** Reads the RDATA fields of one entry, with errors that name the type and field. */
export class FieldReader {
  private i: number;

  constructor(
    private readonly tokens: readonly Token[],
    start: number,
    readonly typeName: string,
    readonly origin: Name,
  ) {
    this.i = start;
  }

  get remaining(): number {
    return this.tokens.length - this.i;
  }

  peek(): Token | undefined {
    return this.tokens[this.i];
  }

  fail(message: string): never {
    throw new ZoneSyntaxError(`${this.typeName}: ${message}`);
  }

  take(what: string): Token {
    const t = this.tokens[this.i];
    if (!t) this.fail(`missing ${what}`);
    this.i++;
    return t;
  }

  /** An unquoted field (numbers, names, hex): BIND refuses quotes there. */
  word(what: string): string {
    const t = this.take(what);
    if (t.quoted) this.fail(`${what} must not be quoted ("${t.text}")`);
    return t.text;
  }

  /** Every token left; at least one. */
  rest(what: string): Token[] {
    if (this.i >= this.tokens.length) this.fail(`missing ${what}`);
    const out = this.tokens.slice(this.i);
    this.i = this.tokens.length;
    return out;
  }

  /** Remaining unquoted chunks joined (hex and base64 may be split by spaces). */
  joinedRest(what: string): string {
    return this.rest(what)
      .map((t) => {
        if (t.quoted) this.fail(`${what} must not be quoted`);
        return t.text;
      })
      .join('');
  }

  number(what: string, max: number): number {
    const text = this.word(what);
    if (!allDigits(text)) this.fail(`${what} "${text}" is not a number`);
    const v = Number(text);
    if (v > max) this.fail(`${what} ${text} is out of range (0-${max})`);
    return v;
  }

  u8(what: string): number {
    return this.number(what, 0xff);
  }

  u16(what: string): number {
    return this.number(what, 0xffff);
  }

  u32(what: string): number {
    return this.number(what, MAX_U32);
  }

  /** SOA timers accept TTL units (BIND's counter syntax). */
  counter(what: string): number {
    const text = this.word(what);
    const v = parseTtlText(text);
    if (v === undefined) this.fail(`bad ${what} "${text}"`);
    return v;
  }

  name(what: string): Name {
    const text = this.word(what);
    try {
      return parseName(text, this.origin);
    } catch (e) {
      if (e instanceof ZoneSyntaxError) this.fail(`${what}: ${e.message}`);
      throw e;
    }
  }

  /** One <character-string> (RFC 1035 §3.3): quoted or not, at most 255 bytes. */
  charString(what: string): Uint8Array {
    const b = decodeText(this.take(what).text);
    if (b.length > 255) this.fail(`${what} is ${b.length} bytes, longer than 255`);
    return b;
  }

  end(): void {
    const t = this.tokens[this.i];
    if (t) this.fail(`unexpected extra field "${t.text}"`);
  }
}

/** Appends wire-format fields; names are written uncompressed (RFC 3597 §4). */
export class ByteBuilder {
  private readonly out: number[] = [];

  u8(v: number): this {
    this.out.push(v & 0xff);
    return this;
  }

  u16(v: number): this {
    this.out.push((v >>> 8) & 0xff, v & 0xff);
    return this;
  }

  u32(v: number): this {
    this.out.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    return this;
  }

  bytes(b: Uint8Array): this {
    for (let i = 0; i < b.length; i++) this.out.push(b[i]);
    return this;
  }

  charString(b: Uint8Array): this {
    return this.u8(b.length).bytes(b);
  }

  name(n: Name): this {
    for (const label of n.labels) this.u8(label.length).bytes(label);
    return this.u8(0);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}
