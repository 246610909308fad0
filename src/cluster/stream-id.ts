/** Redis stream ids are `ms-seq`; compare them as number pairs, never as strings. */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split('-').map((x) => BigInt(x));
  const [bm = 0n, bs = 0n] = b.split('-').map((x) => BigInt(x));
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}

export function isStreamId(s: string): boolean {
  return /^\d+-\d+$/.test(s);
}
