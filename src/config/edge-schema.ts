import { z } from 'zod';

/** `host:port`, `[v6]:port` or a bare port (then 127.0.0.1). */
const listenAddress = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+)?:?\d{1,5}$/, 'expected host:port or [v6addr]:port');

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1 << 20, mb: 1 << 20, mib: 1 << 20, g: 1 << 30, gb: 1 << 30, gib: 1 << 30 };

/** A byte count: a number, or "256MiB", "16m", "1g". */
export const byteSize = z.union([
  z.number().int().nonnegative(),
  z.string().transform((s, ctx) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(s);
    const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
    if (!m || unit === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected a byte size such as 1048576, "512KiB", "64MiB" or "2GiB"' });
      return z.NEVER;
    }
    return Math.floor(Number(m[1]) * unit);
  }),
]);

const seconds = z.number().nonnegative();
const httpMethod = z.string().regex(/^[A-Z]+$/, 'expected an upper-case HTTP method');

export const siteSchema = z
  .object({
    /** Where misses go: `http://host:port` or `https://host:port` (no path). */
    origin: z.string().regex(/^https?:\/\/[^/\s?#]+\/?$/, 'expected http(s)://host[:port]'),
    /** Other Host names served by this site (same cache). */
    aliases: z.array(z.string().min(1)).default([]),
    /** Host header sent to the origin; default: the client's Host. */
    origin_host: z.string().min(1).optional(),
    /** Serve stale for this long past expiry when the origin fails (unless must-revalidate). */
    grace_s: seconds.default(0),
    /** Honour the client's `Cache-Control: no-cache` / `max-age=0` (most CDNs ignore them to protect the origin). */
    honor_client_no_cache: z.boolean().default(false),
    cache_key: z
      .object({
        /** Query parameters left out of the cache key (and still sent to the origin). `"*"` drops the whole query. */
        ignore_query: z.union([z.literal('*'), z.array(z.string().min(1))]).default([]),
        /** Sort query parameters, so `?b=1&a=2` and `?a=2&b=1` share one entry. */
        sort_query: z.boolean().default(false),
      })
      .strict()
      .default({ ignore_query: [], sort_query: false }),
    bypass: z
      .object({
        /** Path prefixes never served from cache (`/api/`), or `*` suffix globs (`/admin*`). */
        paths: z.array(z.string().startsWith('/')).default([]),
        /** A request carrying any of these cookies goes straight to the origin. */
        cookies: z.array(z.string().min(1)).default([]),
        /** Extra methods to bypass (GET/HEAD are otherwise cacheable). */
        methods: z.array(httpMethod).default([]),
      })
      .strict()
      .default({ paths: [], cookies: [], methods: [] }),
    /** Per-site override of `edge.max_object_size`. */
    max_object_size: byteSize.optional(),
    /**
     * Fetch and cache objects in slices of this size (nginx's `slice`): each slice is
     * its own cache object filled with `Range: bytes=a-b`, so a range of a huge file
     * costs only the slices it touches. At most the object size limit.
     */
    slice_size: byteSize.refine((n) => n > 0, 'slice_size must be positive').optional(),
  })
  .strict();

const originTimeouts = z
  .object({
    connect_ms: z.number().int().positive().default(3_000),
    /** Time to the response head; past it: 504 (or STALE). */
    headers_ms: z.number().int().positive().default(15_000),
    /** Idle time between body chunks. */
    body_ms: z.number().int().positive().default(30_000),
  })
  .strict();

/**
 * The disk tier under the memory tier. `{pop}` in the path becomes the POP name
 * (`default` without one): several edges on one machine need a folder each.
 */
const diskSection = z
  .object({
    /** Folder of the cache files, created if missing; relative paths start at the working directory. */
    path: z.string().min(1),
    /** Bytes of object files the tier may keep; the least valuable are evicted past it (SLRU). */
    size: byteSize,
    /** Largest object kept on disk (default: an eighth of `size`, at most 1 GiB). Objects above `edge.max_object_size` live on disk only. */
    max_object_size: byteSize.optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.size < 64 * 1024) ctx.addIssue({ code: 'custom', path: ['size'], message: 'a disk tier needs at least 64KiB' });
    if (d.max_object_size !== undefined && d.max_object_size > d.size) ctx.addIssue({ code: 'custom', path: ['max_object_size'], message: 'must not exceed disk.size' });
  })
  .transform((d) => ({ ...d, max_object_size: d.max_object_size ?? Math.min(1 << 30, Math.floor(d.size / 8)) }));

/** A certificate chain and its private key, PEM files (relative to the config file). */
const certificateFiles = z.object({ cert: z.string().min(1), key: z.string().min(1) }).strict();

const tlsSection = z
  .object({
    /** HTTPS listen address (HTTP/2 and HTTP/1.1 by ALPN); a POP can override it with `pops.<name>.tls_listen`. */
    listen: listenAddress.default('127.0.0.1:8443'),
    /** Chosen by SNI against each certificate's names (SAN, else CN; wildcards); the first one is the default. */
    certificates: z.array(certificateFiles).min(1),
    /** Offer HTTP/2 by ALPN (HTTP/1.1 stays available). */
    http2: z.boolean().default(true),
    /**
     * SETTINGS_MAX_CONCURRENT_STREAMS of each HTTP/2 connection (nginx's http2_max_concurrent_streams):
     * a client holds its requests past it (one that does not has them refused, or its connection closed).
     */
    http2_max_concurrent_streams: z.number().int().min(1).max(2 ** 31 - 1).default(128),
    /** Reload the certificates when a file changes; a bad new file keeps the old certificate. */
    watch: z.boolean().default(true),
  })
  .strict();

/** Media types compressed by default: text, and the structured text formats served as application/ and image/. */
export const DEFAULT_COMPRESSIBLE_TYPES = [
  'text/*',
  'application/json',
  'application/*+json',
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'application/xml',
  'application/*+xml',
  'application/wasm',
  'application/x-font-ttf',
  'application/vnd.ms-fontobject',
  'font/ttf',
  'font/otf',
  'image/svg+xml',
  'image/x-icon',
  'image/vnd.microsoft.icon',
];

const compressionSection = z
  .object({
    /** Compress cacheable responses the origin sent uncompressed, for clients that accept br or gzip. */
    enabled: z.boolean().default(true),
    /** Media types (no parameters) to compress; `text/*` and `application/*+json` patterns work. */
    types: z.array(z.string().regex(/^[a-z0-9*.+-]+\/[a-z0-9*.+-]+$/, 'expected a media type such as text/* or application/json')).default(DEFAULT_COMPRESSIBLE_TYPES),
    /** Smaller responses (by Content-Length) are not worth it; unknown lengths are compressed. */
    min_size: byteSize.default(1024),
    /** gzip level 1-9 (nginx's default is 1, 6 is zlib's). */
    gzip_level: z.number().int().min(1).max(9).default(6),
    /** Brotli quality 0-11; 11 is far too slow on the fly, 4-6 are what CDNs use. */
    br_level: z.number().int().min(0).max(11).default(5),
  })
  .strict();

export const edgeSectionSchema = z
  .object({
    /** Default listen address of an edge; a POP can override it under `pops`. */
    listen: listenAddress.default('127.0.0.1:8080'),
    /** Per-POP settings of the edge, keyed by the name given to `geocdn edge --pop`. */
    pops: z
      .record(z.string(), z.object({ listen: listenAddress, tls_listen: listenAddress.optional(), admin: z.union([listenAddress, z.literal(false)]).optional() }).strict())
      .default({}),
    /** HTTPS (SNI, HTTP/2 with HTTP/1.1 fallback); absent: plain HTTP only. */
    tls: tlsSection.optional(),
    compression: compressionSection.default(compressionSection.parse({})),
    /** The edge's admin API (liveness, status, /metrics; the `admin` section's token): off unless set here or per POP. */
    admin: z.union([listenAddress, z.literal(false)]).default(false),
    /** Name in `Via` and `Cache-Status`; default `geocdn` (`geocdn-<pop>` when a POP is given). */
    name: z.string().regex(/^[A-Za-z0-9._-]+$/).optional(),
    /** Memory tier size; LRU-evicted. */
    memory_size: byteSize.default(256 * 1024 * 1024),
    /** Largest object the memory tier holds; without a disk tier, larger responses pass through uncached. */
    max_object_size: byteSize.default(16 * 1024 * 1024),
    /** Optional disk tier (memory stays in front as the hot tier); none: memory only. */
    disk: diskSection.optional(),
    /** Request head limit; larger heads get 431. */
    max_header_size: z.number().int().min(1024).max(1 << 20).default(16 * 1024),
    /**
     * Time a client has to send a whole request head, from its connection (first request) or
     * from the request's first byte (later ones); past it: 408 and the connection is closed
     * (nginx's client_header_timeout). At most the 60 s the whole request may take.
     */
    client_header_timeout_ms: z.number().int().positive().max(60_000).default(20_000),
    /**
     * A response that sends nothing to its client for this long (a client that stopped reading)
     * is cut and its connection (HTTP/1.1) or stream (HTTP/2) closed, so it holds no memory or
     * open file for good (nginx's send_timeout). Never shorter than the origin's own timeouts:
     * a response waiting on the origin is not cut before the origin wait is.
     */
    client_send_timeout_ms: z.number().int().min(100).default(60_000),
    /** Upper bound of the Last-Modified heuristic (RFC 9111 §4.2.2). */
    heuristic_max_s: seconds.default(86_400),
    /**
     * Plain-HTTP fresh memory HITs of simple GET/HEAD requests answered by the edge's own narrow
     * request reader before node's HTTP parser (src/edge/fast-path.ts); anything else goes to node.
     */
    fast_path: z.boolean().default(true),
    /** One JSON `access` log line per response (client, method, host, URL, status, cache status, time). */
    access_log: z.boolean().default(true),
    health_path: z.string().startsWith('/').default('/.well-known/geocdn/health'),
    origin_timeouts: originTimeouts.default(originTimeouts.parse({})),
    /** Keep-alive connections per origin. */
    origin_connections: z.number().int().positive().default(64),
  })
  .strict();

export const sitesSectionSchema = z.record(z.string().min(1), siteSchema);

export type TlsSection = z.infer<typeof tlsSection>;
export type CompressionSection = z.infer<typeof compressionSection>;
export type SiteConfig = z.infer<typeof siteSchema>;
export type EdgeSection = z.infer<typeof edgeSectionSchema>;
export type SitesSection = z.infer<typeof sitesSectionSchema>;
