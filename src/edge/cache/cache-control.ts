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
