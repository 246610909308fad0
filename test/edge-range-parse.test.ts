import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_RANGES, ifRangeHolds, parseContentRange, parseRangeHeader, resolveRanges, selectRanges } from '../src/edge/cache/range.js';

/** The pure rules under the HTTP tests in edge-range*.test.ts: RFC 9110 §14 text in, ranges out. */
describe('Range parsing (RFC 9110 §14)', () => {
  it('byte-range specs: closed, open, suffix, spaces and empty elements', () => {
    assert.deepEqual(parseRangeHeader('bytes=0-9'), [{ first: 0, last: 9 }]);
    assert.deepEqual(parseRangeHeader('bytes = 5- , -3,'), [{ first: 5, last: undefined }, { suffix: 3 }]);
    assert.deepEqual(parseRangeHeader('Bytes=1-1'), [{ first: 1, last: 1 }]);
  });

  it('ignored: other units, bad syntax, last < first, too many ranges', () => {
    for (const v of ['items=0-1', 'bytes=', 'bytes=-', 'bytes=a-b', 'bytes=5-2', 'bytes 0-1', `bytes=${Array.from({ length: MAX_RANGES + 1 }, (_, i) => `${i * 2}-${i * 2}`).join(',')}`]) {
      assert.equal(parseRangeHeader(v), undefined, v);
    }
  });

  it('resolved against the length: clipped, unsatisfiable ones dropped, 416 when none is left', () => {
    assert.deepEqual(resolveRanges([{ first: 5, last: 500 }], 10), { kind: 'partial', ranges: [{ start: 5, end: 9 }] });
    assert.deepEqual(resolveRanges([{ suffix: 50 }], 10), { kind: 'partial', ranges: [{ start: 0, end: 9 }] });
    assert.deepEqual(resolveRanges([{ first: 20, last: undefined }, { first: 2, last: 3 }], 10), { kind: 'partial', ranges: [{ start: 2, end: 3 }] });
    assert.deepEqual(resolveRanges([{ first: 10, last: undefined }, { suffix: 0 }], 10), { kind: 'unsatisfiable' });
    assert.deepEqual(resolveRanges([{ first: 0, last: 0 }], 0), { kind: 'full' });
    assert.deepEqual(resolveRanges([{ suffix: 1 }], 0), { kind: 'full' });
  });

  it('coalescing: overlapping or close ranges merge and sort; distinct ones keep the client\'s order', () => {
    assert.deepEqual(resolveRanges([{ first: 5000, last: 5009 }, { first: 0, last: 9 }], 10_000), { kind: 'partial', ranges: [{ start: 5000, end: 5009 }, { start: 0, end: 9 }] });
    assert.deepEqual(resolveRanges([{ first: 500, last: 600 }, { first: 0, last: 9 }, { first: 550, last: 700 }], 10_000), { kind: 'partial', ranges: [{ start: 0, end: 9 }, { start: 500, end: 700 }] });
    assert.deepEqual(resolveRanges([{ first: 0, last: 9 }, { first: 20, last: 29 }], 10_000), { kind: 'partial', ranges: [{ start: 0, end: 29 }] });
    assert.deepEqual(resolveRanges([{ first: 0, last: 600 }, { first: 500, last: 999 }, { first: 0, last: 999 }], 1000), { kind: 'full' });
    assert.deepEqual(resolveRanges([{ first: 0, last: 9 }, { first: 5, last: 14 }], 1000), { kind: 'partial', ranges: [{ start: 0, end: 14 }] });
    assert.deepEqual(resolveRanges([{ first: 0, last: 499 }, { first: 900, last: 999 }, { first: 300, last: 950 }], 1000), { kind: 'full' });
    assert.deepEqual(resolveRanges([{ first: 0, last: 400 }, { first: 600, last: 999 }], 1000), { kind: 'partial', ranges: [{ start: 0, end: 400 }, { start: 600, end: 999 }] });
  });

  it('If-Range: strong ETag equal, exact date; weak ETags and other dates never', () => {
    assert.equal(ifRangeHolds(undefined, undefined, undefined), true);
    assert.equal(ifRangeHolds('"a"', '"a"', undefined), true);
    assert.equal(ifRangeHolds('"a"', 'W/"a"', undefined), false);
    assert.equal(ifRangeHolds('W/"a"', 'W/"a"', undefined), false);
    assert.equal(ifRangeHolds('Mon, 23 Nov 2026 10:00:00 GMT', undefined, 'Mon, 23 Nov 2026 10:00:00 GMT'), true);
    assert.equal(ifRangeHolds('Mon, 23 Nov 2026 10:00:01 GMT', undefined, 'Mon, 23 Nov 2026 10:00:00 GMT'), false);
    assert.deepEqual(selectRanges('bytes=0-1', '"b"', 10, '"a"', undefined), { kind: 'full' });
  });

  it('Content-Range of a 206', () => {
    assert.deepEqual(parseContentRange('bytes 0-999/10500'), { start: 0, end: 999, size: 10500 });
    assert.equal(parseContentRange('bytes */10500'), undefined);
    assert.equal(parseContentRange('bytes 5-4/10'), undefined);
    assert.equal(parseContentRange('bytes 0-10/10'), undefined);
  });
});
