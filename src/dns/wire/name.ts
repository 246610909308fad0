/**
 * Domain names (RFC 1035 §3.1, §5.1).
 *
 * A `Name` is immutable and built once (at zone load or query parse). Its
 * `key` is the canonical presentation form: lowercase, absolute, without the
 * trailing dot, root = ''. Only `.`, `\` and bytes outside 0x21..0x7e are
 * escaped (`\.`, `\\`, `\DDD`), so equal names always have equal keys and a
 * key can be used directly in a Map.
 */
export const MAX_NAME_WIRE = 255;
export const MAX_LABEL = 63;

export class NameError extends Error {}

export class Name {
  /** Lowercased label bytes, leftmost first. */
  readonly labels: readonly Uint8Array[];
  readonly key: string;
  /** suffixKeys[i] is the key of the name made of labels[i..]; suffixKeys[labels.length] is '' (root). */
  readonly suffixKeys: readonly string[];
  /** Uncompressed wire length, including the root byte. */
  readonly wireLength: number;

  private constructor(labels: Uint8Array[], labelKeys: string[]) {
    this.labels = labels;
    const suffixKeys = new Array<string>(labels.length + 1);
    suffixKeys[labels.length] = '';
    for (let i = labels.length - 1; i >= 0; i--) {
      const rest = suffixKeys[i + 1];
      suffixKeys[i] = rest === '' ? labelKeys[i] : `${labelKeys[i]}.${rest}`;
    }
    this.suffixKeys = suffixKeys;
    this.key = suffixKeys[0];
    let len = 1;
    for (const l of labels) len += l.length + 1;
    this.wireLength = len;
  }

  static readonly root = new Name([], []);

  /** From raw label bytes (any case); checks label and name lengths. */
  static fromLabels(raw: readonly Uint8Array[]): Name {
    const labels: Uint8Array[] = [];
    const keys: string[] = [];
    let len = 1;
    for (const r of raw) {
      if (r.length === 0) throw new NameError('empty label');
      if (r.length > MAX_LABEL) throw new NameError(`label longer than ${MAX_LABEL} bytes`);
      len += r.length + 1;
      const lower = lowercaseLabel(r);
      labels.push(lower);
      keys.push(labelKey(lower));
    }
    if (len > MAX_NAME_WIRE) throw new NameError(`name longer than ${MAX_NAME_WIRE} bytes`);
    return new Name(labels, keys);
  }

  /**
   * Parses presentation format. `@` is the origin; a name without a trailing
   * dot is relative to `origin`. Escapes `\X` and `\DDD` are decoded.
   */
  static fromText(text: string, origin?: Name): Name {
    if (text === '@') {
      if (!origin) throw new NameError('"@" used with no origin');
      return origin;
    }
    if (text === '.') return Name.root;
    if (text.length === 0) throw new NameError('empty name');
    const labels: Uint8Array[] = [];
    let cur: number[] = [];
    let absolute = false;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x2e /* . */) {
        if (cur.length === 0) throw new NameError(`empty label in "${text}"`);
        labels.push(Uint8Array.from(cur));
        cur = [];
        if (i === text.length - 1) absolute = true;
      } else if (c === 0x5c /* \ */) {
        const next = text.charCodeAt(i + 1);
        if (Number.isNaN(next)) throw new NameError(`dangling backslash in "${text}"`);
        if (isDigit(next)) {
          const d = text.slice(i + 1, i + 4);
          if (!/^\d{3}$/.test(d)) throw new NameError(`bad \\DDD escape in "${text}"`);
          const v = Number(d);
          if (v > 255) throw new NameError(`\\${d} is not a byte in "${text}"`);
          cur.push(v);
          i += 3;
        } else {
          cur.push(next);
          i += 1;
        }
      } else {
        if (c > 0xff) throw new NameError(`non-ASCII character in "${text}" (use punycode)`);
        cur.push(c);
      }
    }
    if (cur.length > 0) labels.push(Uint8Array.from(cur));
    if (absolute) return Name.fromLabels(labels);
    if (!origin) throw new NameError(`relative name "${text}" with no origin`);
    return Name.fromLabels([...labels, ...origin.labels]);
  }

  /** Absolute presentation form with the trailing dot. */
  toString(): string {
    return this.key === '' ? '.' : `${this.key}.`;
  }

  equals(other: Name): boolean {
    return this.key === other.key;
  }

  /** True when this name is `other` or below it. */
  isSubdomainOf(other: Name): boolean {
    const d = this.labels.length - other.labels.length;
    return d >= 0 && this.suffixKeys[d] === other.key;
  }

  /** The name with its leftmost `n` labels removed. */
  parent(n = 1): Name {
    return Name.fromLabels(this.labels.slice(n));
  }

  /** A new name with `label` prepended (e.g. `*`). */
  child(label: string): Name {
    return Name.fromLabels([Buffer.from(label, 'latin1'), ...this.labels]);
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function lowercaseLabel(raw: Uint8Array): Uint8Array {
  let needs = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c >= 0x41 && c <= 0x5a) { needs = true; break; }
  }
  if (!needs) return raw instanceof Buffer ? new Uint8Array(raw) : raw;
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    out[i] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
  }
  return out;
}

/** Canonical key text of one label (lowercase input expected). */
export function labelKey(label: Uint8Array): string {
  let plain = true;
  for (let i = 0; i < label.length; i++) {
    const c = label[i];
    if (c <= 0x20 || c >= 0x7f || c === 0x2e || c === 0x5c) { plain = false; break; }
  }
  if (plain) return String.fromCharCode.apply(null, label as unknown as number[]);
  let s = '';
  for (let i = 0; i < label.length; i++) {
    const c = label[i];
    if (c === 0x2e || c === 0x5c) s += `\\${String.fromCharCode(c)}`;
    else if (c <= 0x20 || c >= 0x7f) s += `\\${c.toString().padStart(3, '0')}`;
    else s += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
  }
  return s;
}
