import { type TLSSocket, connect as tlsConnect } from 'node:tls';

// A raw HTTP/2 client over TLS, frames written by hand (RFC 9113 §4), for what node's client will not
// do: open streams past the server's SETTINGS_MAX_CONCURRENT_STREAMS (node's queues them), or reset
// streams as fast as it can write.

/** Frame types (RFC 9113 §6) and error codes (§7) the tests look at. */
export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, CONTINUATION: 9 } as const;
export const H2_ERROR = { INTERNAL_ERROR: 2, REFUSED_STREAM: 7, CANCEL: 8, ENHANCE_YOUR_CALM: 11 } as const;
const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;

/** One HTTP/2 frame: 24-bit length, type, flags, stream id, payload (RFC 9113 §4.1). */
export function h2frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK integer with an N-bit prefix (RFC 7541 §5.1). */
function hpackInt(n: number, prefixBits: number, firstByte: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (n < max) return Buffer.from([firstByte | n]);
  const out = [firstByte | max];
  for (n -= max; n >= 128; n = Math.floor(n / 128)) out.push((n % 128) + 128);
  out.push(n);
  return Buffer.from(out);
}

function hpackString(s: string): Buffer {
  const bytes = Buffer.from(s, 'latin1');
  return Buffer.concat([hpackInt(bytes.length, 7, 0), bytes]); // no Huffman
}

/**
 * A GET's header block for `https://www.example.test<path>`: `:method GET` and `:scheme https`
 * from the static table, the rest literals without indexing (RFC 7541 §6.2.2), so that every
 * block stands alone and the server's decoder state never matters.
 */
export function getRequestBlock(path: string, fields: Record<string, string> = {}): Buffer {
  const parts = [Buffer.from([0x82, 0x87]), hpackInt(4, 4, 0), hpackString(path), hpackInt(1, 4, 0), hpackString('www.example.test')];
  for (const [name, value] of Object.entries(fields)) parts.push(Buffer.from([0]), hpackString(name), hpackString(value));
  return Buffer.concat(parts);
}

/** A whole request without content: one HEADERS frame with END_STREAM and END_HEADERS. */
export function getRequest(streamId: number, path: string, fields: Record<string, string> = {}): Buffer {
  const block = getRequestBlock(path, fields);
  if (block.length > 16_384) throw new Error('header block larger than one frame of the default SETTINGS_MAX_FRAME_SIZE');
  return h2frame(FRAME.HEADERS, END_STREAM | END_HEADERS, streamId, block);
}

export function rstStream(streamId: number, code: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return h2frame(FRAME.RST_STREAM, 0, streamId, payload);
}

/** `:status` entries of HPACK's static table (RFC 7541 Appendix A), by index. */
const STATIC_STATUS = new Map([[8, 200], [9, 204], [10, 206], [11, 304], [12, 400], [13, 404], [14, 500]]);

export interface RawH2 {
  readonly socket: TLSSocket;
  /** The server's first SETTINGS, by identifier (RFC 9113 §6.5.2), once received. */
  readonly settings: ReadonlyMap<number, number> | undefined;
  /** Streams the server ended (END_STREAM on HEADERS or DATA), by id. */
  readonly ended: ReadonlySet<number>;
  /** The status of each response whose `:status` came from HPACK's static table (200, 204, 206, 304, 400, 404, 500); else undefined. */
  readonly statuses: ReadonlyMap<number, number | undefined>;
  /** RST_STREAM error codes the server sent, by stream id. */
  readonly resets: ReadonlyMap<number, number>;
  readonly goaway: { lastStreamId: number; code: number } | undefined;
  readonly closed: boolean;
  /** Sends SETTINGS ACK for the server's SETTINGS (with `ackSettings: false` it is held until this call). */
  ackSettings(): void;
  write(bytes: Buffer): void;
  /** Resolves once `cond` holds after some frame (or the close); rejects after 10 s. */
  waitFor(cond: () => boolean, what: string): Promise<void>;
  close(): void;
}

/**
 * Connects with ALPN h2, sends the preface and an empty SETTINGS, and reads frames. With
 * `ackSettings: false` the server's SETTINGS is left unacknowledged, so the limits it announces are
 * not yet in force on the server (RFC 9113 §6.5.3): what a client's first flight of requests meets.
 */
export function rawH2(port: number, opts: { ackSettings?: boolean } = {}): Promise<RawH2> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port, host: '127.0.0.1', servername: 'www.example.test', ALPNProtocols: ['h2'], rejectUnauthorized: false });
    let buffered: Buffer = Buffer.alloc(0);
    let settingsSeen = false;
    const waiters = new Set<() => void>();
    const state = {
      socket,
      settings: undefined as Map<number, number> | undefined,
      ended: new Set<number>(),
      statuses: new Map<number, number | undefined>(),
      resets: new Map<number, number>(),
      goaway: undefined as { lastStreamId: number; code: number } | undefined,
      closed: false,
      ackSettings: () => void socket.write(h2frame(FRAME.SETTINGS, ACK, 0)),
      write: (bytes: Buffer) => void socket.write(bytes),
      waitFor(cond: () => boolean, what: string): Promise<void> {
        if (cond()) return Promise.resolve();
        return new Promise<void>((done, fail) => {
          const check = (): void => {
            if (!cond()) return;
            clearTimeout(timer);
            waiters.delete(check);
            done();
          };
          const timer = setTimeout(() => {
            waiters.delete(check);
            fail(new Error(`timed out waiting for ${what}`));
          }, 10_000);
          waiters.add(check);
        });
      },
      close: () => void socket.destroy(),
    };
    const changed = (): void => {
      for (const w of [...waiters]) w();
    };
    function onFrame(type: number, flags: number, id: number, payload: Buffer): void {
      switch (type) {
        case FRAME.SETTINGS:
          if (flags & ACK || settingsSeen) return;
          settingsSeen = true;
          state.settings = new Map();
          for (let i = 0; i + 6 <= payload.length; i += 6) state.settings.set(payload.readUInt16BE(i), payload.readUInt32BE(i + 2));
          if (opts.ackSettings !== false) state.ackSettings();
          return;
        case FRAME.HEADERS:
          // A response's :status is its first field (RFC 9113 §8.3); an indexed one is one byte (RFC 7541 §6.1).
          if (!state.statuses.has(id)) state.statuses.set(id, payload[0]! & 0x80 ? STATIC_STATUS.get(payload[0]! & 0x7f) : undefined);
          if (flags & END_STREAM) state.ended.add(id);
          return;
        case FRAME.DATA:
          if (flags & END_STREAM) state.ended.add(id);
          return;
        case FRAME.RST_STREAM:
          state.resets.set(id, payload.readUInt32BE(0));
          return;
        case FRAME.GOAWAY:
          state.goaway = { lastStreamId: payload.readUInt32BE(0) & 0x7fffffff, code: payload.readUInt32BE(4) };
          return;
        case FRAME.PING:
          if (!(flags & ACK)) socket.write(h2frame(FRAME.PING, ACK, 0, payload));
          return;
      }
    }
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      while (buffered.length >= 9) {
        const length = buffered.readUIntBE(0, 3);
        if (buffered.length < 9 + length) break;
        onFrame(buffered[3]!, buffered[4]!, buffered.readUInt32BE(5) & 0x7fffffff, buffered.subarray(9, 9 + length));
        buffered = buffered.subarray(9 + length);
      }
      changed();
    });
    socket.on('close', () => {
      state.closed = true;
      changed();
    });
    // After the handshake an error (a connection the server reset) is followed by 'close', which the tests look at.
    socket.on('error', reject);
    socket.once('secureConnect', () => {
      socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), h2frame(FRAME.SETTINGS, 0, 0)]));
      resolve(state);
    });
  });
}
