import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { Rcode, RRType } from '../src/dns/wire/constants.js';
import { encodeQuery } from '../src/dns/wire/message.js';
import { parseQuery } from '../src/dns/wire/query.js';
import { exampleConfig, exampleZone } from './fixtures/test-zone.js';
import { query, startNameserver, type TestNameserver } from './helpers/dns.js';

/** A small deterministic PRNG, so a failing case can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const seeds = [
  encodeQuery('www.example.test', RRType.A, { edns: { ecs: { family: 1, sourcePrefix: 24, scopePrefix: 0, address: Uint8Array.from([8, 8, 8]) } } }),
  encodeQuery('x.wild.example.test', RRType.TXT, { edns: true }),
  encodeQuery('big.example.test', RRType.TXT),
  encodeQuery('www.sub.example.test', RRType.ANY),
];

/** Bit flips, truncations, count fields, compression loops, long labels and names, garbage EDNS options, random bytes. */
export function mutate(r: () => number): Buffer {
  const pick = (n: number) => Math.floor(r() * n);
  const base = Buffer.from(seeds[pick(seeds.length)]);
  switch (pick(9)) {
    case 0: {
      for (let i = 0, n = 1 + pick(8); i < n; i++) base[pick(base.length)] ^= 1 << pick(8);
      return base;
    }
    case 1:
      return base.subarray(0, pick(base.length));
    case 2:
      base.writeUInt16BE(pick(0x10000), 4 + 2 * pick(4));
      return base;
    case 3: // a pointer to itself or forwards
      base[12] = 0xc0;
      base[13] = pick(2) ? 12 : 0xff;
      return base;
    case 4: // a label of 64..255 bytes
      base[12] = 64 + pick(192);
      return Buffer.concat([base, Buffer.alloc(pick(300), 0x61)]);
    case 5: { // a name longer than 255 bytes
      const labels = Buffer.alloc(300);
      for (let i = 0; i + 11 < 300; i += 11) { labels[i] = 10; labels.fill(0x62, i + 1, i + 11); }
      return Buffer.concat([base.subarray(0, 12), labels, Buffer.from([0, 0, 1, 0, 1])]);
    }
    case 6: { // garbage EDNS options
      const q = encodeQuery('www.example.test', RRType.A, { edns: true });
      const junk = Buffer.alloc(pick(40));
      for (let i = 0; i < junk.length; i++) junk[i] = pick(256);
      const out = Buffer.concat([q, junk]);
      out.writeUInt16BE(junk.length + pick(5) - 2 & 0xffff, q.length - 2);
      return out;
    }
    case 7: {
      const out = Buffer.alloc(pick(600));
      for (let i = 0; i < out.length; i++) out[i] = pick(256);
      if (out.length > 2) out[2] &= 0x7f; // mostly queries, so they reach the parser
      return out;
    }
    default: {
      base[2] = pick(256) & 0x7f;
      base[3] = pick(256);
      return base;
    }
  }
}

let t: TestNameserver;
before(async () => {
  t = await startNameserver({ 'example.test.zone': exampleZone }, exampleConfig);
});
after(() => t.stop());

test('the parser never throws on 20,000 mutated packets', () => {
  const r = rng(7);
  for (let i = 0; i < 20_000; i++) {
    const p = mutate(r);
    const res = parseQuery(p);
    assert.ok(res.kind === 'drop' || res.kind === 'error' || res.kind === 'query');
  }
});

test('10,000 mutated and random packets over UDP and TCP, then the server still answers correctly', async () => {
  const r = rng(42);
  const udp = createSocket('udp4');
  let replies = 0;
  udp.on('message', () => replies++);
  await new Promise<void>((res) => udp.bind(0, '127.0.0.1', () => res()));
  for (let i = 0; i < 8000; i++) {
    udp.send(mutate(r), t.port, '127.0.0.1');
    if (i % 200 === 0) await new Promise((res) => setImmediate(res));
  }
  // TCP: mutated messages with correct framing, and some with lying length prefixes.
  await Promise.all(
    Array.from({ length: 20 }, (_, c) =>
      new Promise<void>((resolve) => {
        const sock = connect({ port: t.port, host: '127.0.0.1' }, () => {
          const parts: Buffer[] = [];
          for (let i = 0; i < 100; i++) {
            const m = mutate(r);
            const len = c % 5 === 0 && i === 99 ? 0xffff : m.length;
            parts.push(Buffer.from([len >> 8, len & 0xff]), m);
          }
          sock.end(Buffer.concat(parts));
        });
        sock.on('data', () => undefined);
        sock.on('error', () => resolve());
        sock.on('close', () => resolve());
      }),
    ),
  );
  await new Promise((res) => setTimeout(res, 200));
  udp.close();
  assert.ok(replies > 0, 'some mutated packets were answered (FORMERR and friends)');
  const m = await query(t.port, 'www.example.test', RRType.A);
  assert.equal(m.rcode, Rcode.NOERROR);
  assert.equal(m.answers.length, 2);
  const m2 = await query(t.port, 'www.example.test', RRType.A, { tcp: true });
  assert.equal(m2.answers.length, 2);
});
