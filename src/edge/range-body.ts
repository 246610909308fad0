import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { BodySink, Pace } from './cache/collapse.js';
import type { CacheOutcome } from './cache/decision.js';
import type { ByteRange } from './cache/range.js';
import type { OpenedBody, StoredObject } from './cache/store.js';
import type { HeaderList } from './headers.js';
import { type Identity, writeStreamingHead } from './respond.js';
import { ResponseOut } from './response-out.js';

/** The body of a 206 laid out before the first byte is sent: part heads, lengths, the fields it adds. */
export interface RangePlan {
  readonly ranges: readonly ByteRange[];
  /** Length of the whole representation. */
  readonly size: number;
  /** multipart/byteranges: one head per part (delimiter, Content-Type, Content-Range); undefined for one range. */
  readonly partHeads: readonly Buffer[] | undefined;
  /** The close delimiter of a multipart body. */
  readonly closing: Buffer | undefined;
  readonly contentLength: number;
  /** The stored fields as the 206 carries them, Content-Range or the multipart Content-Type added. */
  readonly headers: HeaderList;
}

/**
 * RFC 9110 §14.4, §14.6 and §15.3.7: one range gets Content-Range on the
 * response; several get a multipart/byteranges body whose parts each carry
 * the representation's Content-Type and their own Content-Range.
 */
export function planRanges(ranges: readonly ByteRange[], size: number, stored: HeaderList): RangePlan {
  const kept = stored.filter(([n]) => n !== 'content-range');
  if (ranges.length === 1) {
    const r = ranges[0]!;
    return { ranges, size, partHeads: undefined, closing: undefined, contentLength: r.end - r.start + 1, headers: [...kept, ['content-range', `bytes ${r.start}-${r.end}/${size}`]] };
  }
  const boundary = `geocdn-${randomBytes(12).toString('hex')}`;
  const type = kept.find(([n]) => n === 'content-type')?.[1];
  const typeLine = type !== undefined ? `content-type: ${type}\r\n` : '';
  const partHeads = ranges.map((r) => Buffer.from(`\r\n--${boundary}\r\n${typeLine}content-range: bytes ${r.start}-${r.end}/${size}\r\n\r\n`, 'latin1'));
  const closing = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  let contentLength = closing.length;
  ranges.forEach((r, i) => (contentLength += partHeads[i]!.length + r.end - r.start + 1));
  const headers: HeaderList = [...kept.filter(([n]) => n !== 'content-type'), ['content-type', `multipart/byteranges; boundary=${boundary}`]];
  return { ranges, size, partHeads, closing, contentLength, headers };
}

/** The head of a 206 for a plan. */
export function writeRangeHead(res: ServerResponse, plan: RangePlan, outcome: CacheOutcome, id: Identity, age: number | undefined): void {
  writeStreamingHead(res, 206, plan.headers, plan.contentLength, outcome, id, age);
}

/** RFC 9110 §15.5.17: 416 with the current length in Content-Range (`bytes *\/N`). */
export function writeUnsatisfiable(res: ServerResponse, size: number, headers: HeaderList, outcome: CacheOutcome, id: Identity, age: number | undefined): void {
  // validators only: the 416 is about this request, not a response to store downstream
  const kept = headers.filter(([n]) => n === 'date' || n === 'etag' || n === 'last-modified');
  writeStreamingHead(res, 416, [...kept, ['content-range', `bytes */${size}`]], 0, outcome, id, age);
  res.end();
}

/** Reads bytes `start..end` (inclusive, offsets of the whole representation) into `out`, waiting on backpressure. */
export type RangeReader = (start: number, end: number, out: ResponseOut) => Promise<void>;

/** Writes a plan's body from a random-access source, part heads and closing delimiter included, then ends. */
export async function writePlanBody(out: ResponseOut, plan: RangePlan, read: RangeReader): Promise<void> {
  for (let i = 0; i < plan.ranges.length; i++) {
    if (out.closed) return;
    const r = plan.ranges[i]!;
    if (plan.partHeads) await out.write(plan.partHeads[i]!);
    await read(r.start, r.end, out);
  }
  if (out.closed) return;
  if (plan.closing) await out.write(plan.closing);
  out.end();
}

/** A reader over a stored object: the buffer when the tier holds it, else `opened` (when given) or the tier's ranged stream. */
export function storedReader(obj: StoredObject, offset = 0, opened?: OpenedBody): RangeReader {
  return async (start, end, out) => {
    const body = obj.body;
    if (body) {
      await out.write(start - offset === 0 && end - offset === body.length - 1 ? body : body.subarray(start - offset, end - offset + 1));
      return;
    }
    for await (const chunk of (opened ?? obj).stream(start - offset, end - offset)) {
      if (out.closed) return;
      await out.write(chunk as Buffer);
    }
  };
}

/**
 * Cuts ascending ranges out of a body whose bytes arrive in order from `offset`
 * (a fill in progress): `part` gets each range's bytes, `done` runs once the
 * last range is complete, `short` when the body ends or fails first.
 */
export class RangeCutter implements BodySink {
  private next = 0;
  private finished = false;
  /** The response the parts go to, when the cutter writes to one: its client's pace. */
  pace?: Pace;

  constructor(
    private readonly ranges: readonly ByteRange[],
    private offset: number,
    private readonly on: { part(index: number, bytes: Buffer): void; done(): void; short(err: Error | undefined): void },
  ) {
    if (ranges.length === 0) this.complete();
  }

  write(chunk: Buffer): void {
    if (this.finished) return;
    const base = this.offset;
    this.offset += chunk.length;
    while (this.next < this.ranges.length) {
      const r = this.ranges[this.next]!;
      if (r.start >= this.offset) return;
      const from = Math.max(r.start, base) - base;
      const to = Math.min(r.end + 1, this.offset) - base;
      if (from < to) this.on.part(this.next, from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to));
      if (r.end + 1 > this.offset) return;
      this.next++;
    }
    this.complete();
  }

  end(): void {
    if (!this.finished) {
      this.finished = true;
      this.on.short(undefined);
    }
  }

  fail(err: Error): void {
    if (!this.finished) {
      this.finished = true;
      this.on.short(err);
    }
  }

  private complete(): void {
    this.finished = true;
    this.on.done();
  }
}

/**
 * A sink that writes a plan's body (single range or multipart) to a response
 * from a body arriving in order from byte 0: a range request served out of a fill.
 */
export function planSink(out: ResponseOut, plan: RangePlan): RangeCutter {
  let current = -1;
  const cutter = new RangeCutter(plan.ranges, 0, {
    part(i, bytes) {
      if (i !== current) {
        current = i;
        if (plan.partHeads) out.send(plan.partHeads[i]!);
      }
      out.send(bytes);
    },
    done() {
      if (plan.closing) out.send(plan.closing);
      out.end();
    },
    short() {
      out.res.destroy();
    },
  });
  cutter.pace = out;
  return cutter;
}

/**
 * A range answer for a stored 200: 416, or 206 with one range or a multipart
 * body, read from the buffer when the tier holds it, else from `opened` (opened
 * before this head, released here once every part is read) or its ranged stream.
 */
export function writeStoredRanges(
  res: ServerResponse,
  obj: StoredObject,
  answer: { readonly kind: 'unsatisfiable' } | { readonly kind: 'partial'; readonly ranges: readonly ByteRange[] },
  outcome: CacheOutcome,
  id: Identity,
  age: number,
  count: (bytes: number) => void,
  opened?: OpenedBody,
): void {
  const m = obj.meta;
  if (answer.kind === 'unsatisfiable') {
    opened?.release();
    return writeUnsatisfiable(res, m.bodySize, m.headers, outcome, id, age);
  }
  const plan = planRanges(answer.ranges, m.bodySize, m.headers);
  writeRangeHead(res, plan, outcome, id, age);
  if (res.req.method === 'HEAD') {
    opened?.release();
    return void res.end();
  }
  writePlanBody(new ResponseOut(res, count), plan, storedReader(obj, 0, opened))
    .catch(() => res.destroy())
    .finally(() => opened?.release());
}
