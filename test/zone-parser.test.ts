import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { GeocdnErrors, type GeocdnError } from '../src/core/errors.js';
import { Name } from '../src/dns/wire/name.js';
import { ipv6Bytes, ipv6ToText, rdataToText } from '../src/dns/wire/rdata.js';
import { parseZoneFile, parseZoneText, type ParsedZone, type ZoneRecord } from '../src/dns/zone/parser.js';
import { zoneTypeToString } from '../src/dns/zone/parse-types.js';
import { tempDir } from './helpers/tmp.js';

/**
 * Zone-file parser: golden fixtures (records for valid zones, errors for
 * invalid ones; regenerate with UPDATE_GOLDEN=1), BIND compatibility via
 * named-checkzone, and unit cases for each feature and error path.
 */
const FIXTURES = fileURLToPath(new URL('../../test/fixtures/zones/', import.meta.url));
const ORIGIN = Name.fromText('example.com.');
const zones = readdirSync(FIXTURES).filter((f) => f.endsWith('.zone')).sort();

/** Fixtures where geocdn refuses on purpose what BIND loads. */
const DEVIATIONS: Record<string, string> = {
  'bad-ttl-range.zone': 'BIND warns "TTL > MAXTTL" and loads with TTL 0; RFC 2181 §8 values are typos, geocdn refuses',
  'bad-out-of-zone.zone': 'BIND warns "ignoring out-of-zone data"; geocdn refuses',
  'bad-generate.zone': 'BIND expands $GENERATE; geocdn does not support it',
  'bad-text-form.zone': 'BIND knows the LOC text form; geocdn takes such types only in RFC 3597 generic form',
};

function errorsOf(fn: () => unknown): GeocdnError[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof GeocdnErrors, `expected GeocdnErrors, got ${String(e)}`);
    return e.errors;
  }
  assert.fail('expected the zone to be refused');
}

function parse(text: string, file = 'inline.zone'): ParsedZone {
  return parseZoneText(text, file, ORIGIN);
}

function errorLines(text: string): string[] {
  return errorsOf(() => parse(text)).map((e) => `${e.code} ${e.where?.file}:${e.where?.line}: ${e.message}`);
}

function dump(records: readonly ZoneRecord[]): string {
  return records.map((r) => `${r.name} ${r.ttl} IN ${zoneTypeToString(r.type)} ${rdataToText(r.type, r.data)}`).join('\n');
}

function wireHex(r: ZoneRecord): string {
  return r.data.kind === 'raw' ? Buffer.from(r.data.bytes).toString('hex') : rdataToText(r.type, r.data);
}

const SOA = '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 60\n NS ns1\nns1 A 192.0.2.1\n';

// ---------- golden fixtures ----------

function checkGolden(name: string, actual: string): void {
  const path = join(FIXTURES, name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) {
    assert.ok(process.env.UPDATE_GOLDEN === '1', `missing golden file ${name}: run UPDATE_GOLDEN=1 npm test`);
    writeFileSync(path, `${actual}\n`);
    return;
  }
  assert.equal(actual, readFileSync(path, 'utf8').trimEnd());
}

for (const zone of zones) {
  test(`golden: ${zone}`, () => {
    const path = join(FIXTURES, zone);
    if (zone.startsWith('ok-')) {
      checkGolden(zone.replace(/\.zone$/, '.records'), dump(parseZoneFile(path, ORIGIN).records));
    } else {
      const errors = errorsOf(() => parseZoneFile(path, ORIGIN));
      const lines = errors.map((e) => `${e.code} ${relative(FIXTURES, e.where?.file ?? '?')}:${e.where?.line}: ${e.message}`);
      checkGolden(zone.replace(/\.zone$/, '.errors'), lines.join('\n').replaceAll(FIXTURES, ''));
    }
  });
}

// ---------- BIND compatibility ----------

const CHECKZONE = 'named-checkzone';
const haveCheckzone = !spawnSync(CHECKZONE, ['-v']).error;

/** `named-checkzone -D` prints the zone canonically; -i local keeps it off the network. */
function bindCheck(zone: string): { ok: boolean; output: string } {
  const r = spawnSync(CHECKZONE, ['-i', 'local', '-w', FIXTURES, '-D', '-o', '-', 'example.com', zone], { encoding: 'latin1' });
  return { ok: r.status === 0, output: `${r.stdout}` };
}

/** Keys `owner ttl type rdata` of BIND's dump, read back through our parser. */
function bindRecords(output: string): string[] {
  const lines = output.split('\n').filter((l) => /^\S+\.\s+\d+\s+IN\s/.test(l));
  return parse(lines.join('\n')).records.map((r) => `${r.name} ${r.ttl} ${r.type} ${wireHex(r)}`).sort();
}

const NO_CHECKZONE = 'named-checkzone not installed (Debian bind9-utils)';

test('named-checkzone agrees on every fixture (loads / refused, and the records)', { skip: haveCheckzone ? false : NO_CHECKZONE }, () => {
  for (const zone of zones) {
    const bind = bindCheck(zone);
    let ours: ParsedZone | undefined;
    try {
      ours = parseZoneFile(join(FIXTURES, zone), ORIGIN);
    } catch (e) {
      if (!(e instanceof GeocdnErrors)) throw e;
    }
    const deviation = DEVIATIONS[zone];
    if (deviation) {
      assert.ok(bind.ok && !ours, `${zone}: expected the documented deviation (${deviation})`);
      continue;
    }
    assert.equal(!!ours, bind.ok, `${zone}: named-checkzone ${bind.ok ? 'loads' : 'refuses'} it, geocdn ${ours ? 'loads' : 'refuses'} it`);
    if (!ours) continue;
    const mine = ours.records.map((r) => `${r.name} ${r.ttl} ${r.type} ${wireHex(r)}`).sort();
    assert.deepEqual(mine, bindRecords(bind.output), `${zone}: records differ from named-checkzone -D`);
  }
});

test('named-checkzone prints our text for the common types', { skip: haveCheckzone ? false : NO_CHECKZONE }, () => {
  const common = new Set(['A', 'AAAA', 'NS', 'CNAME', 'PTR', 'MX', 'SOA', 'TXT']);
  for (const zone of zones.filter((z) => z.startsWith('ok-'))) {
    const bind = bindCheck(zone)
      .output.split('\n')
      .map((l) => l.split(/\s+/))
      .filter((f) => f.length > 4 && common.has(f[3]))
      .map((f) => {
        // rdataToText prints IPv4-mapped addresses in hex (RFC 5952 §5 prefers dotted): compare bytes.
        const rdata = f[3] === 'AAAA' ? ipv6ToText(ipv6Bytes(f[4])!) : f.slice(4).join(' ');
        return `${f[0].toLowerCase()} ${f[3]} ${/^(A|AAAA|TXT)$/.test(f[3]) ? rdata : rdata.toLowerCase()}`;
      });
    const ours = parseZoneFile(join(FIXTURES, zone), ORIGIN)
      .records.filter((r) => common.has(zoneTypeToString(r.type)))
      .map((r) => `${r.name} ${zoneTypeToString(r.type)} ${rdataToText(r.type, r.data)}`);
    assert.deepEqual([...ours].sort(), bind.sort(), zone);
  }
});

// ---------- features ----------

test('owner, TTL and class in any order; blank owner repeats the previous one', () => {
  const z = parse(`${SOA}a 60 IN A 192.0.2.1\nb IN 61 A 192.0.2.2\nc CLASS1 62 A 192.0.2.3\n  63 AAAA ::1\nd A 192.0.2.4\n`);
  assert.deepEqual(
    z.records.slice(3).map((r) => `${r.name} ${r.ttl} ${rdataToText(r.type, r.data)}`),
    ['a.example.com. 60 192.0.2.1', 'b.example.com. 61 192.0.2.2', 'c.example.com. 62 192.0.2.3', 'c.example.com. 63 ::1', 'd.example.com. 300 192.0.2.4'],
  );
  assert.equal(z.records[4].line, 6);
});

test('TTL units, case-insensitive, and the default TTL rules', () => {
  const ttls = (text: string) => parse(text).records.map((r) => r.ttl);
  assert.deepEqual(ttls(`${SOA}a 1h30m A 192.0.2.1\nb 2W A 192.0.2.1\nc 1d A 192.0.2.1\nd 1w2d3H4m5S A 192.0.2.1\ne 0 A 192.0.2.1\n`).slice(3), [5400, 1209600, 86400, 788645, 0]);
  // No $TTL: the previous explicit TTL (RFC 1035 §5.1).
  assert.deepEqual(ttls('@ 500 SOA ns1 h 1 2 3 4 5\n NS ns1\nns1 A 192.0.2.1\n'), [500, 500, 500]);
  // Nothing before the SOA: its MINIMUM, with a warning, and it becomes the default.
  const z = parse('@ SOA ns1 h 1 2 3 4 90\n NS ns1\nns1 600 A 192.0.2.1\nwww A 192.0.2.2\n');
  assert.deepEqual(z.records.map((r) => r.ttl), [90, 90, 600, 90]);
  assert.equal(z.warnings?.length, 1);
  assert.match(z.warnings![0].message, /SOA MINIMUM 90/);
  // SOA timers take units too.
  assert.equal(rdataToText(6, parse('$TTL 1\n@ SOA ns1 h 1 1h 30m 2w 1D\n').records[0].data), 'ns1.example.com. h.example.com. 1 3600 1800 1209600 86400');
  assert.equal(parse('$TTL 2147483647\n@ SOA ns1 h 1 2 3 4 5\n').records[0].ttl, 2147483647);
});

test('TXT: several strings, unquoted words, escapes, strings over 255 bytes split', () => {
  const txt = (rdata: string) => rdataToText(16, parse(`$TTL 1\nt TXT ${rdata}\n`).records[0].data);
  assert.equal(txt('"a b" c\\ d "\\"q\\" \\\\ \\065\\;"'), '"a b" "c d" "\\"q\\" \\\\ A;"');
  assert.equal(txt('""'), '""');
  assert.equal(txt('"caf\\195\\169"'), '"caf\\195\\169"');
  const long = parse(`$TTL 1\nt TXT "${'x'.repeat(600)}"\nu SPF ${'y'.repeat(255)}\n`).records;
  const bytes = long[0].data.kind === 'raw' ? long[0].data.bytes : new Uint8Array();
  assert.deepEqual([bytes[0], bytes[256], bytes[512], bytes.length], [255, 255, 90, 603]);
  assert.equal(long[1].type, 99);
});

test('wire encoding of raw types', () => {
  const hex = (line: string) => wireHex(parse(`$TTL 1\n${line}\n`).records[0]);
  assert.equal(hex('s SRV 1 2 3 Sip.Example.COM.'), '00010002000303736970076578616d706c6503636f6d00');
  assert.equal(hex('c CAA 0 issue "ca.org"'), `0005${Buffer.from('issueca.org').toString('hex')}`);
  assert.equal(hex('d DNAME Other.'), '056f7468657200');
  assert.equal(hex('h HINFO "a b" c'), '036120620163');
  assert.equal(hex('n NAPTR 1 2 "U" "" "" x'), `00010002015500000178076578616d706c6503636f6d00`);
  assert.equal(hex('t TLSA 3 1 1 ab CD'), '030101abcd');
  assert.equal(hex('k DNSKEY 256 3 13 AQID BA=='), '0100030d01020304');
  assert.equal(hex('p PTR @'), 'example.com.');
});

test('RFC 3597 generic form for unknown and known types', () => {
  const z = parse(`$TTL 1\na TYPE65534 \\# 2 ab CD\nb A \\# 4 c0000201\nc MX \\# 3 000a 00\nd TYPE1 192.0.2.9\ne CLASS1 TYPE65280 \\# 0\nf CNAME \\# 1 00\n`);
  assert.deepEqual(z.records.map((r) => rdataToText(r.type, r.data)), ['\\# 2 abcd', '192.0.2.1', '10 .', '192.0.2.9', '\\# 0', '.']);
  assert.deepEqual(z.records.map((r) => r.data.kind), ['raw', 'raw', 'mx', 'raw', 'raw', 'name']);
});

test('names: lowercased, escapes, $ORIGIN relative to the current origin', () => {
  const z = parse(`$TTL 1\n$ORIGIN Sub\nWWW A 192.0.2.1\n$ORIGIN example.com.\na\\.b A 192.0.2.2\n\\065 CNAME Target.Sub\n"quoted owner" A 192.0.2.3\n`);
  assert.deepEqual(z.records.map((r) => r.name.key), ['www.sub.example.com', 'a\\.b.example.com', 'a.example.com', 'quoted\\032owner.example.com']);
  assert.equal(rdataToText(5, z.records[2].data), 'target.sub.example.com.');
});

test('$INCLUDE: relative to the including file, own origin, restores origin and owner', () => {
  const dir = tempDir('geocdn-zone-');
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'main.zone'), `${SOA}last A 192.0.2.9\n$INCLUDE sub/a.inc pops\n A 192.0.2.10\nx A 192.0.2.11\n`);
  writeFileSync(join(dir, 'sub', 'a.inc'), '$ORIGIN other.example.com.\nedge A 192.0.2.20\n$INCLUDE b.inc\n');
  writeFileSync(join(dir, 'sub', 'b.inc'), 'deep A 192.0.2.21\n');
  const z = parseZoneFile(join(dir, 'main.zone'), ORIGIN);
  assert.deepEqual(z.records.slice(4).map((r) => `${r.name.key} ${relative(dir, r.file)}:${r.line}`), [
    'edge.other.example.com sub/a.inc:2',
    'deep.other.example.com sub/b.inc:1',
    'last.example.com main.zone:7',
    'x.example.com main.zone:8',
  ]);
});

test('$INCLUDE: loops, depth limit, unreadable files, errors in the included file', () => {
  const dir = tempDir('geocdn-zone-');
  writeFileSync(join(dir, 'a.zone'), `${SOA}$INCLUDE b.inc\n`);
  writeFileSync(join(dir, 'b.inc'), 'ok A 192.0.2.1\n$INCLUDE a.zone\n');
  const loop = errorsOf(() => parseZoneFile(join(dir, 'a.zone'), ORIGIN));
  assert.deepEqual(loop.map((e) => [e.code, relative(dir, e.where!.file), e.where!.line]), [['GEOCDN_ZONE_SYNTAX', 'b.inc', 2]]);
  assert.match(loop[0].message, /\$INCLUDE loop: .*a\.zone -> .*b\.inc -> .*a\.zone/);

  for (let i = 0; i < 20; i++) writeFileSync(join(dir, `d${i}.inc`), `$INCLUDE d${i + 1}.inc\n`);
  writeFileSync(join(dir, 'd20.inc'), 'end A 192.0.2.1\n');
  const deep = errorsOf(() => parseZoneText(`${SOA}$INCLUDE d0.inc\n`, join(dir, 'deep.zone'), ORIGIN));
  assert.equal(deep.length, 1);
  assert.match(deep[0].message, /nested deeper than 16/);

  const missing = errorsOf(() => parseZoneText(`${SOA}$INCLUDE nope.inc\n`, join(dir, 'm.zone'), ORIGIN));
  assert.deepEqual(missing.map((e) => [e.code, relative(dir, e.where!.file), e.where!.line]), [['GEOCDN_ZONE_READ', 'm.zone', 5]]);
  const unreadable = errorsOf(() => parseZoneFile(join(dir, 'absent.zone'), ORIGIN));
  assert.equal(unreadable[0].code, 'GEOCDN_ZONE_READ');
  assert.equal(unreadable[0].where?.line, undefined);
});

// ---------- errors ----------

const errorCases: [string, string, number, RegExp][] = [
  ['bad IPv4', 'a A 192.0.2.256', 5, /A: bad IPv4 address "192\.0\.2\.256"/],
  ['bad IPv6', 'a AAAA 1:::2', 5, /AAAA: bad IPv6 address/],
  ['missing field', 'a MX 10', 5, /MX: missing exchange/],
  ['missing type', 'a 300 IN', 5, /missing RR type/],
  ['extra field', 'a CNAME b c', 5, /CNAME: unexpected extra field "c"/],
  ['unknown type', 'a FOO bar', 5, /unknown RR type "FOO"/],
  ['meta type', 'a TYPE255 \\# 0', 5, /meta type/],
  ['class', 'a HS A 192.0.2.1', 5, /class HS is not supported/],
  ['TTL unit', 'a 1y A 192.0.2.1', 5, /bad TTL "1y"/],
  ['TTL range', 'a 2147483648 A 192.0.2.1', 5, /TTL 2147483648 is larger than 2147483647/],
  ['$TTL range', '$TTL 4294967296', 5, /bad \$TTL "4294967296"/],
  ['u16 range', 'a SRV 0 0 65536 t', 5, /SRV: port 65536 is out of range \(0-65535\)/],
  ['u8 range', 'a CAA 256 issue "x"', 5, /CAA: flags 256 is out of range/],
  ['CAA tag', 'a CAA 0 is-sue "x"', 5, /tag "is-sue" must be letters and digits/],
  ['label', `${'a'.repeat(64)} A 192.0.2.1`, 5, /label longer than 63/],
  ['name', `a CNAME ${`${'b'.repeat(63)}.`.repeat(4)}`, 5, /name longer than 255/],
  ['escape', 'a TXT "\\999"', 5, /bad escape "\\999".*larger than 255/],
  ['short escape', 'a\\1 A 192.0.2.1', 5, /bad \\DDD escape/],
  ['quote', 'a TXT "open\nb A 192.0.2.1', 5, /unbalanced quotes/],
  ['paren open', 'a TXT ( "x"\n"y"', 5, /'\(' is never closed/],
  ['paren close', 'a A 192.0.2.1 )', 5, /'\)' without '\('/],
  ['quoted number', 'a MX "10" b', 5, /MX: preference must not be quoted/],
  ['generic length', 'a TYPE65534 \\# 3 abcd', 5, /length 3 does not match the 2 bytes/],
  ['generic hex', 'a TYPE65534 \\# 1 zz', 5, /bad hex "zz"/],
  ['generic pointer', 'a MX \\# 4 0001c000', 5, /compressed/],
  ['generic A', 'a A \\# 3 c00002', 5, /needs exactly 4 bytes/],
  ['DS digest', 'a DS 1 8 2 abcd', 5, /digest type 2 needs 32 bytes, got 2/],
  ['base64', 'a DNSKEY 256 3 8 AwEA!', 5, /bad base64/],
  ['generic-only type', 'a RRSIG A 8 2 300 1 1 1 x. AA==', 5, /RRSIG: no text form supported; use the RFC 3597 generic form/],
  ['out of zone', 'x.example.net. A 192.0.2.1', 5, /out-of-zone owner name x\.example\.net\./],
  ['$GENERATE', '$GENERATE 1-2 h$ A 192.0.2.$', 5, /\$GENERATE is not supported/],
  ['directive', '$FOO', 5, /unknown directive \$FOO/],
  ['$ORIGIN args', '$ORIGIN a b', 5, /\$ORIGIN: unexpected extra field "b"/],
  ['multi-line entry', 'a SOA ns1 h (\n 1 2 3\n 4 x )', 5, /SOA: bad minimum "x"/],
];

for (const [what, line, at, message] of errorCases) {
  test(`error: ${what}`, () => {
    const errors = errorsOf(() => parse(`${SOA}${line}\nok A 192.0.2.7\n`));
    assert.equal(errors.length, 1, errors.map((e) => e.format()).join('\n'));
    assert.equal(errors[0].code, 'GEOCDN_ZONE_SYNTAX');
    assert.deepEqual(errors[0].where, { file: 'inline.zone', line: at });
    assert.match(errors[0].message, message);
  });
}

test('errors: all of them are collected, parsing goes on after each', () => {
  assert.deepEqual(errorLines(`${SOA}a A 1\nb A 192.0.2.1\n   ; comment only\nc MX x y\n  TXT "x\n`), [
    'GEOCDN_ZONE_SYNTAX inline.zone:5: A: bad IPv4 address "1"',
    'GEOCDN_ZONE_SYNTAX inline.zone:8: MX: preference "x" is not a number',
    'GEOCDN_ZONE_SYNTAX inline.zone:9: unbalanced quotes: string is not closed on its line',
  ]);
  assert.deepEqual(errorLines(' A 192.0.2.1\nx A 192.0.2.2\n'), [
    'GEOCDN_ZONE_SYNTAX inline.zone:1: no owner name: the first record must start in column 1',
    'GEOCDN_ZONE_SYNTAX inline.zone:2: no TTL specified: add a $TTL line, a TTL on this record, or put the SOA first',
  ]);
});

// Parse time is measured by `npm run bench:startup`, not asserted here.
test('a 100k-record zone parses whole', () => {
  const lines = [SOA];
  for (let i = 0; i < 100_000; i++) lines.push(`host${i} 300 IN A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`);
  const text = lines.join('');
  const z = parse(text);
  assert.equal(z.records.length, 100_003);
});
