/**
 * Tokenizer for master files (RFC 1035 §5.1).
 *
 * The lexer cuts the text into entries: one logical line each, where
 * parentheses join physical lines. Tokens keep their raw text, escapes
 * included, because a name needs `\.` kept apart from `.` while a
 * character-string needs it decoded; the field parsers decode. One pass over
 * char codes, no regex per character.
 */

export interface Token {
  /** Raw text; for a quoted token, what is between the quotes (escapes kept). */
  text: string;
  quoted: boolean;
  line: number;
}

export interface Entry {
  /** Line the entry starts on. */
  line: number;
  /** The line began with a space or tab: the owner is the previous one (§5.1). */
  ownerBlank: boolean;
  tokens: Token[];
  /** An unbalanced quote or parenthesis, at the line where it opened. */
  error?: { message: string; line: number };
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const OPEN = 0x28;
const CLOSE = 0x29;
const SEMI = 0x3b;
const BACKSLASH = 0x5c;

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB || c === CR;
}

/** Characters that end an unquoted word (RFC 1035 §5.1 special characters). */
function endsWord(c: number): boolean {
  return c === SPACE || c === TAB || c === CR || c === LF || c === SEMI || c === OPEN || c === CLOSE || c === QUOTE;
}

export class ZoneLexer {
  private pos = 0;
  private line = 1;

  constructor(private readonly src: string) {}

  /** The next entry with at least one token (or an error); undefined at the end. */
  next(): Entry | undefined {
    while (this.pos < this.src.length) {
      const entry = this.readEntry();
      if (entry.tokens.length > 0 || entry.error) return entry;
    }
    return undefined;
  }

  private readEntry(): Entry {
    const src = this.src;
    const entry: Entry = { line: this.line, ownerBlank: isBlank(src.charCodeAt(this.pos)), tokens: [] };
    let depth = 0;
    let openedAt = 0;
    while (this.pos < src.length) {
      const c = src.charCodeAt(this.pos);
      if (c === LF) {
        this.pos++;
        this.line++;
        if (depth === 0) return entry;
      } else if (isBlank(c)) {
        this.pos++;
      } else if (c === SEMI) {
        this.skipComment();
      } else if (c === OPEN) {
        if (depth === 0) openedAt = this.line;
        depth++;
        this.pos++;
      } else if (c === CLOSE) {
        if (depth === 0) setError(entry, "unbalanced parentheses: ')' without '('", this.line);
        else depth--;
        this.pos++;
      } else if (c === QUOTE) {
        entry.tokens.push(this.readQuoted(entry));
      } else {
        entry.tokens.push(this.readWord());
      }
    }
    if (depth > 0) setError(entry, "unbalanced parentheses: '(' is never closed", openedAt);
    return entry;
  }

  private skipComment(): void {
    const end = this.src.indexOf('\n', this.pos);
    this.pos = end < 0 ? this.src.length : end;
  }

  private readWord(): Token {
    const src = this.src;
    const start = this.pos;
    const line = this.line;
    let p = start;
    while (p < src.length) {
      const c = src.charCodeAt(p);
      if (c === BACKSLASH) {
        // `\X` keeps X in the word, even a blank or `;` (§5.1); never a newline.
        if (p + 1 < src.length && src.charCodeAt(p + 1) !== LF) p += 2;
        else p += 1;
      } else if (endsWord(c)) {
        break;
      } else {
        p++;
      }
    }
    this.pos = p;
    return { text: src.slice(start, p), quoted: false, line };
  }

  /** A quoted string may not cross a line end: BIND reports "unbalanced quotes". */
  private readQuoted(entry: Entry): Token {
    const src = this.src;
    const line = this.line;
    const start = this.pos + 1;
    let p = start;
    while (p < src.length) {
      const c = src.charCodeAt(p);
      if (c === QUOTE) {
        this.pos = p + 1;
        return { text: src.slice(start, p), quoted: true, line };
      }
      if (c === LF) break;
      p += c === BACKSLASH && p + 1 < src.length && src.charCodeAt(p + 1) !== LF ? 2 : 1;
    }
    setError(entry, 'unbalanced quotes: string is not closed on its line', line);
    this.pos = p;
    return { text: src.slice(start, p), quoted: true, line };
  }
}

function setError(entry: Entry, message: string, line: number): void {
  if (!entry.error) entry.error = { message, line };
}
