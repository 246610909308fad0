import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { exampleConfig, exampleZone } from './fixtures/test-zone.js';
import { dig, hasDig, NO_DIG, startNameserver, type TestNameserver } from './helpers/dns.js';

/** The same rules, checked with the tool operators use: ISC dig. */
describe('with dig', { skip: hasDig() ? false : NO_DIG }, () => {
  let t: TestNameserver;
  before(async () => {
    t = await startNameserver({ 'example.test.zone': exampleZone }, exampleConfig);
  });
  after(() => t?.stop());

  test('authoritative answer, no recursion available', async () => {
    const out = await dig(t.port, ['docs.example.test', 'A']);
    assert.match(out, /status: NOERROR/);
    assert.match(out, /flags: qr aa rd;/);
    assert.match(out, /docs\.example\.test\.\s+3600\s+IN\s+CNAME\s+www\.example\.test\./);
    assert.match(out, /cdn\.example\.test\.\s+30\s+IN\s+A\s+192\.0\.2\.80/);
  });

  test('NXDOMAIN and NODATA with the SOA', async () => {
    const nx = await dig(t.port, ['nope.example.test']);
    assert.match(nx, /status: NXDOMAIN/);
    assert.match(nx, /AUTHORITY: 1/);
    assert.match(nx, /example\.test\.\s+300\s+IN\s+SOA/);
    const nodata = await dig(t.port, ['mail.example.test', 'AAAA']);
    assert.match(nodata, /status: NOERROR/);
    assert.match(nodata, /ANSWER: 0, AUTHORITY: 1/);
  });

  test('referral with glue, wildcard, REFUSED', async () => {
    const ref = await dig(t.port, ['www.sub.example.test', '+norec']);
    assert.match(ref, /flags: qr;/);
    assert.match(ref, /sub\.example\.test\.\s+3600\s+IN\s+NS\s+ns\.sub\.example\.test\./);
    assert.match(ref, /ns\.sub\.example\.test\.\s+3600\s+IN\s+A\s+192\.0\.2\.153/);
    assert.match(await dig(t.port, ['abc.wild.example.test']), /abc\.wild\.example\.test\.\s+3600\s+IN\s+A\s+192\.0\.2\.99/);
    assert.match(await dig(t.port, ['example.com']), /status: REFUSED/);
  });

  test('letter case of the question is kept', async () => {
    const out = await dig(t.port, ['CdN.ExAmPlE.TeSt', 'A']);
    assert.match(out, /;CdN\.ExAmPlE\.TeSt\.\s+IN\s+A/);
    assert.match(out, /CdN\.ExAmPlE\.TeSt\.\s+30\s+IN\s+A/);
  });

  test('TC over UDP, then dig retries over TCP and gets everything', async () => {
    const udp = await dig(t.port, ['big.example.test', 'TXT', '+noedns', '+ignore']);
    assert.match(udp, /flags: qr aa tc rd;/);
    const retried = await dig(t.port, ['big.example.test', 'TXT', '+noedns']);
    assert.match(retried, /ANSWER: 3/);
    assert.match(await dig(t.port, ['big.example.test', 'TXT', '+tcp']), /ANSWER: 3/);
  });

  test('EDNS: OPT echoed, BADVERS, Client Subnet with scope 0', async () => {
    const out = await dig(t.port, ['cdn.example.test', '+subnet=8.8.8.0/24']);
    assert.match(out, /EDNS: version: 0, flags:; udp: 1232/);
    assert.match(out, /CLIENT-SUBNET: 8\.8\.8\.0\/24\/0/);
    const bad = await dig(t.port, ['cdn.example.test', '+edns=1', '+noednsnegotiation']);
    assert.match(bad, /status: BADVERS/);
  });

  test('unknown types in RFC 3597 form, long TXT split into strings', async () => {
    assert.match(await dig(t.port, ['blob.example.test', 'TYPE65534']), /TYPE65534\s+\\# 2 ABCD/i);
    assert.match(await dig(t.port, ['big.example.test', 'TXT', '+tcp']), /"x{200}" "1"/);
  });
});
