import type { Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';

const CHUNK = 256 * 1024;

/** `ino:size:mtime`: a file rewritten, truncated or replaced behind the store's back no longer matches. */
export function fileStamp(st: Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}

/**
 * Bytes `first..last` (inclusive, file offsets) of an object file. The file is
 * opened when the stream starts; if it is no longer the file that was checked
 * (`stamp`), or ends early, the stream fails instead of sending other bytes.
 */
export class FileRangeStream extends Readable {
  private fh: FileHandle | undefined;
  private pos: number;

  constructor(
    private readonly file: string,
    private readonly stamp: string,
    first: number,
    private readonly last: number,
    private readonly onChanged: () => void,
  ) {
    super({ highWaterMark: CHUNK });
    this.pos = first;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    open(this.file, 'r').then(
      async (fh) => {
        this.fh = fh;
        const st = await fh.stat();
        if (fileStamp(st) !== this.stamp) {
          this.onChanged();
          throw new Error(`disk object changed on disk: ${this.file}`);
        }
      },
    ).then(() => callback(), (e: Error) => callback(e));
  }

  override _read(): void {
    const want = Math.min(CHUNK, this.last - this.pos + 1);
    if (want <= 0) {
      this.push(null);
      return;
    }
    const buf = Buffer.allocUnsafe(want);
    this.fh!.read(buf, 0, want, this.pos).then(
      ({ bytesRead }) => {
        if (bytesRead === 0) {
          this.onChanged();
          this.destroy(new Error(`disk object ended early: ${this.file}`));
          return;
        }
        this.pos += bytesRead;
        this.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
      },
      (e: Error) => this.destroy(e),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const fh = this.fh;
    this.fh = undefined;
    if (!fh) return callback(error);
    fh.close().then(() => callback(error), () => callback(error));
  }
}
