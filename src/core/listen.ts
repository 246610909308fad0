import { GeocdnError } from './errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses `host:port`, `[v6]:port`, `:port` or a bare `port` (then 127.0.0.1): every listener's address. */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:\s[\]]*)):(\d{1,5})$/.exec(text) ?? /^()()(\d{1,5})$/.exec(text);
  if (!m) throw new GeocdnError('GEOCDN_CONFIG_INVALID', `bad listen address "${text}"`, undefined, 'use host:port or [v6]:port');
  const port = Number(m[3]);
  if (port > 65535) throw new GeocdnError('GEOCDN_CONFIG_INVALID', `port ${port} out of range in "${text}"`);
  return { host: m[1] || m[2] || '127.0.0.1', port };
}
