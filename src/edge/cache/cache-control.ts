/**
 * Cache-Control style directive lists (RFC 9111 §5.2, also used by
 * CDN-Cache-Control, RFC 9213, and Surrogate-Control). Names are lower-cased;
 * a directive without a value maps to `true`; a quoted value is unquoted.
 */
export type Directives = ReadonlyMap<string, string | true>;

export const EMPTY_DIRECTIVES: Directives = new Map();

export function parseDirectives(field: string | readonly string[] | undefined): Directives {
  if (field === undefined) return EMPTY_DIRECTIVES;
  const text = typeof field === 'string' ? field : field.join(',');
  if (text.length === 0) return EMPTY_DIRECTIVES;
  const out = new Map<string, string | true>();
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && (text[i] === ',' || text[i] === ' ' || text[i] === '\t')) i++;
    const nameStart = i;
    while (i < n && text[i] !== '=' && text[i] !== ',') i++;
    const rawName = text.slice(nameStart, i);
    const name = rawName.trim().toLowerCase();
    // The grammar is token [ "=" value ] with no whitespace around "=" (RFC 9111 §5.2):
    // "max-age =60" or "max-age= 60" is not a max-age, and is ignored like any unknown directive.
    let valid = !/[\s"]/.test(name);
    let value: string | true = true;
    if (i < n && text[i] === '=') {
      if (rawName.length !== rawName.trimEnd().length) valid = false;
      i++;
      if (text[i] === ' ' || text[i] === '\t') valid = false;
      if (text[i] === '"') {
        i++;
        let v = '';
        while (i < n && text[i] !== '"') {
          if (text[i] === '\\' && i + 1 < n) i++;
          v += text[i++];
        }
        i++;
        value = v;
        while (i < n && text[i] !== ',') i++;
      } else {
        const start = i;
        while (i < n && text[i] !== ',') i++;
        value = text.slice(start, i).trim();
      }
    }
    // RFC 9111 §4.2.1: with duplicate directives the first one wins for our purpose
    if (valid && name && !out.has(name)) out.set(name, value);
  }
  return out;
}

/**
 * A delta-seconds directive value (RFC 9111 §1.2.2); `undefined` when absent
 * or malformed. Values past 2^31 are capped, as the RFC asks.
 */
export function deltaSeconds(d: Directives, name: string): number | undefined {
  const v = d.get(name);
  if (v === undefined || v === true) return undefined;
  if (!/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n > 2147483648 ? 2147483648 : n;
}

/**
 * The field names of a qualified `no-cache="a, b"` / `private="a"` directive
 * (RFC 9111 §5.2.2.4, §5.2.2.7), lower-cased; `undefined` for the bare form.
 */
export function fieldNames(d: Directives, name: string): string[] | undefined {
  const v = d.get(name);
  if (v === undefined || v === true) return undefined;
  const names = v
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0);
  return names.length > 0 ? names : undefined;
}

/** Directives whose value is delta-seconds: in a Structured Field that is an Integer, nothing else. */
const INTEGER_DIRECTIVES = new Set(['max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error']);

const SF_KEY = /^[a-z*][a-z0-9_\-.*]*/;
const SF_ITEM = /^(?:-?\d{1,15}(?:\.\d{1,3})?(?![\d.])|"(?:[^"\\\x00-\x1f\x7f]|\\["\\])*"|[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*|:[A-Za-z0-9+/=]*:|\?[01])/;

/**
 * A targeted field (RFC 9213 §2.1: CDN-Cache-Control) is a Structured Field
 * Dictionary (RFC 8941 §3.2). `undefined` when the field is absent, empty or
 * not a valid Dictionary (upper-case keys, spaces around "=", stray tokens):
 * then the cache falls back to the next field, and finally to Cache-Control.
 * A directive of the wrong type (`max-age="60"`) is ignored, the field still
 * counts. Parameters are allowed and ignored.
 */
export function parseTargetedDirectives(field: string | readonly string[] | undefined): Directives | undefined {
  if (field === undefined) return undefined;
  let text = (typeof field === 'string' ? field : field.join(',')).replace(/^[ \t]+|[ \t]+$/g, '');
  if (text.length === 0) return undefined;
  const out = new Map<string, string | true>();
  for (;;) {
    const key = SF_KEY.exec(text);
    if (!key) return undefined;
    const name = key[0];
    text = text.slice(name.length);
    let value: string | true = true;
    let integer = false;
    if (text[0] === '=') {
      const item = SF_ITEM.exec(text.slice(1));
      if (!item) return undefined;
      const raw = item[0];
      text = text.slice(1 + raw.length);
      if (raw === '?1') value = true;
      else if (raw === '?0') value = 'false';
      else if (raw[0] === '"') value = raw.slice(1, -1).replace(/\\(["\\])/g, '$1');
      else {
        value = raw;
        integer = /^-?\d+$/.test(raw);
      }
    }
    // parameters: *( ";" *SP key [ "=" bare-item ] )
    while (text[0] === ';') {
      text = text.slice(1).replace(/^ +/, '');
      const pk = SF_KEY.exec(text);
      if (!pk) return undefined;
      text = text.slice(pk[0].length);
      if (text[0] === '=') {
        const pv = SF_ITEM.exec(text.slice(1));
        if (!pv) return undefined;
        text = text.slice(1 + pv[0].length);
      }
    }
    if (value !== 'false' && (!INTEGER_DIRECTIVES.has(name) || integer) && !out.has(name)) out.set(name, value);
    text = text.replace(/^[ \t]+/, '');
    if (text.length === 0) return out;
    if (text[0] !== ',') return undefined;
    text = text.slice(1).replace(/^[ \t]+/, '');
    if (text.length === 0) return undefined; // a trailing comma is invalid
  }
}
