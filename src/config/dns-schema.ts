import { z } from 'zod';
import { parseListen } from '../core/listen.js';

/** `host:port`, `[v6]:port` or a bare port (then 127.0.0.1). */
export const listenAddress = z.string().refine(
  (text) => {
    try {
      parseListen(text);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected host:port or [v6addr]:port' },
);

export const dnsSectionSchema = z
  .object({
    listen: z.array(listenAddress).min(1).default(['127.0.0.1:5353']),
    /** RFC 7766 §6.2.3: idle TCP connections are closed after this many ms. */
    tcp_idle_timeout_ms: z.number().int().positive().default(10_000),
    /** Largest UDP answer we send to EDNS clients (RFC 9715 / DNS flag day 2020: 1232). */
    max_udp_payload: z.number().int().min(512).max(4096).default(1232),
    /** Reload when a config or zone file changes (SIGHUP always reloads). */
    watch: z.boolean().default(true),
    /** Answered to CH TXT id.server / hostname.bind and in NSID (RFC 4892, 5001); default: the host name; false: not told. */
    identity: z.union([z.string().min(1).max(255), z.literal(false)]).optional(),
    /** Answered to CH TXT version.server / version.bind; default: "geocdn <version>"; false: not told. */
    version: z.union([z.string().min(1).max(255), z.literal(false)]).optional(),
  })
  .strict();

export const zoneEntrySchema = z
  .object({
    origin: z.string().min(1),
    file: z.string().min(1),
  })
  .strict();

export type DnsSection = z.infer<typeof dnsSectionSchema>;
export type ZoneEntry = z.infer<typeof zoneEntrySchema>;
