import type { Name } from './name.js';

/**
 * Builds one DNS message with name compression (RFC 1035 §4.1.4).
 * A server keeps one writer and reuses its buffer for every answer; `finish()`
 * copies the bytes out, so the buffer is free for the next message at once.
 */
export class MessageWriter {
  readonly buf: Buffer;
  pos = 0;
  private readonly compression = new Map<string, number>();

  constructor(capacity = 65535 + 512) {
    this.buf = Buffer.alloc(capacity);
  }

  reset(): void {
    this.pos = 0;
    this.compression.clear();
  }

  u8(v: number): void {
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Writes `name`, reusing any suffix already written when `compress` is set. */
  name(name: Name, compress: boolean): void {
    const { labels, suffixKeys } = name;
    for (let i = 0; i < labels.length; i++) {
      if (compress) {
        const at = this.compression.get(suffixKeys[i]);
        if (at !== undefined) {
          this.u16(0xc000 | at);
          return;
        }
      }
      if (this.pos < 0x4000) this.compression.set(suffixKeys[i], this.pos);
      const label = labels[i];
      this.buf[this.pos++] = label.length;
      this.buf.set(label, this.pos);
      this.pos += label.length;
    }
    this.buf[this.pos++] = 0;
  }

  /** Declares that `name` was written (in any letter case) at `offset`, for later pointers. */
  registerName(name: Name, offset: number): void {
    let at = offset;
    for (let i = 0; i < name.labels.length; i++) {
      if (at >= 0x4000) return;
      if (!this.compression.has(name.suffixKeys[i])) this.compression.set(name.suffixKeys[i], at);
      at += name.labels[i].length + 1;
    }
  }

  /** Undo everything written after `mark` (used to cut a message at an RRset boundary). */
  rollback(mark: number): void {
    this.pos = mark;
    for (const [k, v] of this.compression) if (v >= mark) this.compression.delete(k);
  }

  /** A copy of the message written so far. */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }
}
