/**
 * Slices of a large object (nginx's `slice` module): fixed-size byte ranges,
 * each stored as its own cache object under the URL's primary key, so a purge
 * of the URL removes them all with its variants.
 */

/** Between a variant's key and the slice number; a space never occurs in a field name, so no Vary key collides. */
const MARK = '\n slice=';

/** The cache key of slice `index` of the variant stored under `variantKey`. */
export function sliceKey(variantKey: string, index: number): string {
  return `${variantKey}${MARK}${index}`;
}

/** Does `key` name a slice of the variant `variantKey`? */
export function isSliceOf(key: string, variantKey: string): boolean {
  return key.length > variantKey.length + MARK.length && key.startsWith(variantKey) && key.startsWith(MARK, variantKey.length);
}

/** The byte range slice `index` asks the origin for (`Range: bytes=start-end`, end inclusive). */
export function sliceBounds(index: number, sliceSize: number): { readonly start: number; readonly end: number } {
  const start = index * sliceSize;
  return { start, end: start + sliceSize - 1 };
}

/** The slices holding bytes `start..end` of an object. */
export function slicesOf(start: number, end: number, sliceSize: number): { readonly first: number; readonly last: number } {
  return { first: Math.floor(start / sliceSize), last: Math.floor(end / sliceSize) };
}

/** Two slices are of one version of the object when length and validators agree (never splice two: nginx#911). */
export function sameVersion(a: SliceVersion, b: SliceVersion): boolean {
  return a.size === b.size && a.etag === b.etag && a.lastModified === b.lastModified;
}

export interface SliceVersion {
  /** Length of the whole object, from the slice's Content-Range. */
  readonly size: number;
  readonly etag: string | undefined;
  readonly lastModified: string | undefined;
}
