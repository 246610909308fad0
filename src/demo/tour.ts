import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import { Rcode, RRType } from '../dns/wire/constants.js';
import { decodeMessage, encodeQuery, type Message } from '../dns/wire/message.js';
import { rdataToText } from '../dns/wire/rdata.js';

/**
 * The demo's tour: each step is a command a user can paste and what it must
 * show. `geocdn demo` prints the steps; `geocdn demo --check` runs them and
 * fails on the first that does not behave as printed.
 */
export type TourStep = DnsStep | HttpStep;

interface StepBase {
  /** The command as printed, with {dns}, {http}, {https} and {admin} for the demo's ports, {config} for its config file. */
  command: string;
  comment: string;
}

interface DnsStep extends StepBase {
  kind: 'dns';
  /** The same question, asked with geocdn's own client. */
  query: { name: string; type: number; subnet?: string; tcp?: boolean };
  /** Returns what is wrong with the answer, or undefined. */
  expect(m: Message): string | undefined;
}

interface HttpStep extends StepBase {
  kind: 'http';
  /**
   * The same request, made with node's client: to `address` on the edge (or admin) port;
   * on the HTTPS port over HTTP/2 with the host as server name (SNI), the certificate not verified, as `curl -k`.
   */
  request: { address: string; port: 'http' | 'admin' | 'https'; method?: string; path: string; host?: string; headers?: Record<string, string>; body?: string };
  /** `version` is the HTTP version the answer came in ('1.1', '2.0'). */
  expect(status: number, headers: Record<string, string | string[] | undefined>, version: string): string | undefined;
}

const TOKEN = 'Authorization: Bearer demo-token-only-for-loopback';
const curlEdge = (ip: string) => `curl -sI --resolve cdn.example.test:{http}:${ip} http://cdn.example.test:{http}`;
/** `curl -sI` through one edge, checked by its X-Cache-Status. */
function edgeHead(ip: string, path: string, comment: string, want: string): HttpStep {
  return {
    kind: 'http',
    command: `${curlEdge(ip)}${path}`,
    comment,
    request: { address: ip, port: 'http', method: 'HEAD', path, host: 'cdn.example.test' },
    expect: cacheStatus(want),
  };
}
const cacheStatus = (want: string) => (status: number, h: Record<string, string | string[] | undefined>) =>
  h['x-cache-status'] === want ? undefined : `expected X-Cache-Status: ${want}, got ${String(h['x-cache-status'])} (HTTP ${status})`;

const answers = (m: Message, type: number = RRType.A): string[] =>
  m.answers.filter((r) => r.type === type).map((r) => rdataToText(r.type, r.data));

const want = (cond: boolean, what: string): string | undefined => (cond ? undefined : what);

export const tourSteps: TourStep[] = [
  {
    kind: 'dns',
    command: 'dig @127.0.0.1 -p {dns} cdn.example.test +subnet=8.8.8.0/24',
    comment: 'a US client: us-newyork (127.0.0.3), with the ECS scope',
    query: { name: 'cdn.example.test', type: RRType.A, subnet: '8.8.8.0/24' },
    expect: (m) => want(answers(m).join() === '127.0.0.3' && (m.edns?.ecs?.scopePrefix ?? 0) > 0, 'expected 127.0.0.3 with a non-zero ECS scope'),
  },
  {
    kind: 'dns',
    command: 'dig @127.0.0.1 -p {dns} cdn.example.test +subnet=185.178.92.0/24',
    comment: 'an Italian client: eu-milan (127.0.0.2)',
    query: { name: 'cdn.example.test', type: RRType.A, subnet: '185.178.92.0/24' },
    expect: (m) => want(answers(m).join() === '127.0.0.2', 'expected 127.0.0.2'),
  },
  {
    kind: 'dns',
    command: 'dig @127.0.0.1 -p {dns} cdn.example.test +subnet=139.130.4.0/24',
    comment: 'Australia: the nearest POP, ap-singapore (127.0.0.4)',
    query: { name: 'cdn.example.test', type: RRType.A, subnet: '139.130.4.0/24' },
    expect: (m) => want(answers(m).join() === '127.0.0.4', 'expected 127.0.0.4'),
  },
  {
    kind: 'dns',
    command: 'dig @127.0.0.1 -p {dns} www.example.test +subnet=8.8.8.0/24',
    comment: 'a CNAME into the geo service',
    query: { name: 'www.example.test', type: RRType.A, subnet: '8.8.8.0/24' },
    expect: (m) => want(answers(m, RRType.CNAME).join() === 'cdn.example.test.' && answers(m).join() === '127.0.0.3', 'expected CNAME cdn.example.test. then 127.0.0.3'),
  },
  {
    kind: 'dns',
    command: 'dig @127.0.0.1 -p {dns} director.example.test TXT +subnet=8.8.8.0/24',
    comment: 'how the CDN sees a client, and why this POP',
    query: { name: 'director.example.test', type: RRType.TXT, subnet: '8.8.8.0/24' },
    expect: (m) => want(/"ip 8\.8\.8\.0\/24 v4 .*country us usa.*" "pop us-newyork rule country:US/.test(answers(m, RRType.TXT).join()), 'expected the director TXT for a US client'),
  },
  {
    kind: 'dns',
    command: 'dig @127.0.0.1 -p {dns} example.test SOA',
    comment: 'the zone apex, authoritative (flags: qr aa)',
    query: { name: 'example.test', type: RRType.SOA },
    expect: (m) => want(m.aa && !m.ra && answers(m, RRType.SOA).length === 1, 'expected one SOA with AA set and RA clear'),
  },
  {
    kind: 'dns',
    command: 'dig @127.0.0.1 -p {dns} nope.example.test',
    comment: 'NXDOMAIN, with the SOA for negative caching',
    query: { name: 'nope.example.test', type: RRType.A },
    expect: (m) => want(m.rcode === Rcode.NXDOMAIN && m.authority[0]?.type === RRType.SOA, 'expected NXDOMAIN with the SOA in authority'),
  },
  {
    kind: 'dns',
    command: 'dig @127.0.0.1 -p {dns} anything.wild.example.test',
    comment: 'a wildcard answer',
    query: { name: 'anything.wild.example.test', type: RRType.A },
    expect: (m) => want(answers(m).join() === '127.0.0.9', 'expected 127.0.0.9 from *.wild'),
  },
  {
    kind: 'dns',
    command: 'dig @127.0.0.1 -p {dns} www.sub.example.test',
    comment: 'a referral to a delegated subzone, with glue',
    query: { name: 'www.sub.example.test', type: RRType.A },
    expect: (m) => want(!m.aa && m.authority[0]?.type === RRType.NS && m.additional.length > 0, 'expected a referral: AA clear, NS and glue'),
  },
  {
    kind: 'dns',
    command: 'dig @127.0.0.1 -p {dns} long.example.test TXT +tcp',
    comment: 'a long TXT record, over TCP',
    query: { name: 'long.example.test', type: RRType.TXT, tcp: true },
    expect: (m) => want(answers(m, RRType.TXT).join().split('" "').length >= 2, 'expected a TXT split into several strings'),
  },
  {
    kind: 'dns',
    command: 'dig @127.0.0.1 -p {dns} example.com',
    comment: 'REFUSED: never an open resolver',
    query: { name: 'example.com', type: RRType.A },
    expect: (m) => want(m.rcode === Rcode.REFUSED, 'expected REFUSED'),
  },
  edgeHead('127.0.0.3', '/', 'through the New York edge: X-Cache-Status: MISS the first time...', 'MISS'),
  edgeHead('127.0.0.3', '/', '...and HIT the second: the origin is not asked again', 'HIT'),
  {
    kind: 'http',
    command: `curl -s -X POST -H '${TOKEN}' -d '{"tags":["home"]}' http://127.0.0.1:{admin}/v1/purge`,
    comment: 'purge the home page from every edge by its tag (or: npx geocdn purge --tag home -c {config})',
    request: { address: '127.0.0.1', port: 'admin', method: 'POST', path: '/v1/purge', headers: { authorization: 'Bearer demo-token-only-for-loopback', 'content-type': 'application/json' }, body: '{"tags":["home"]}' },
    expect: (status) => (status === 200 ? undefined : `expected 200 (every edge applied it), got ${status}`),
  },
  edgeHead('127.0.0.3', '/', 'purged: MISS again, fetched fresh from the origin', 'MISS'),
  {
    kind: 'http',
    command: 'curl -sI --http2 -k --resolve cdn.example.test:{https}:127.0.0.3 https://cdn.example.test:{https}/',
    comment: 'HTTPS and HTTP/2 on the same edge (a self-signed certificate, hence -k): HTTP/2 200, a HIT from the same cache',
    request: { address: '127.0.0.3', port: 'https', method: 'HEAD', path: '/', host: 'cdn.example.test' },
    expect: (status, h, version) =>
      version === '2.0' && status === 200 && h['x-cache-status'] === 'HIT' ? undefined : `expected HTTP/2 200 with X-Cache-Status: HIT, got HTTP/${version} ${status} ${String(h['x-cache-status'])}`,
  },
  {
    kind: 'http',
    command: `curl -sI -H 'Accept-Encoding: br, gzip' --resolve cdn.example.test:{http}:127.0.0.3 http://cdn.example.test:{http}/guide.html`,
    comment: 'text is compressed on the edge and cached per coding: content-encoding: br, vary: Accept-Encoding',
    request: { address: '127.0.0.3', port: 'http', method: 'HEAD', path: '/guide.html', host: 'cdn.example.test', headers: { 'accept-encoding': 'br, gzip' } },
    expect: (status, h) => (h['content-encoding'] === 'br' && /accept-encoding/i.test(String(h['vary'])) ? undefined : `expected content-encoding: br and Vary: Accept-Encoding, got ${String(h['content-encoding'])} (HTTP ${status})`),
  },
  edgeHead('127.0.0.3', '/api/time', 'an API path never comes from the cache: BYPASS', 'BYPASS'),
  {
    kind: 'http',
    command: `curl -s -o /dev/null -w '%{http_code} %{size_download}\\n' --resolve cdn.example.test:{http}:127.0.0.2 http://cdn.example.test:{http}/big.bin`,
    comment: 'an 8 MiB file, streamed through the Milan edge into its cache',
    request: { address: '127.0.0.2', port: 'http', path: '/big.bin', host: 'cdn.example.test' },
    expect: (status) => (status === 200 ? undefined : `expected 200, got ${status}`),
  },
  {
    kind: 'http',
    command: `curl -s -r 0-99 -o /dev/null -w '%{http_code}\\n' --resolve cdn.example.test:{http}:127.0.0.2 http://cdn.example.test:{http}/big.bin`,
    comment: 'a range of it, answered 206 from the cache',
    request: { address: '127.0.0.2', port: 'http', path: '/big.bin', host: 'cdn.example.test', headers: { range: 'bytes=0-99' } },
    expect: (status) => (status === 206 ? undefined : `expected 206, got ${status}`),
  },
  {
    kind: 'http',
    command: 'curl -sI http://127.0.0.1:{admin}/dashboard',
    comment: 'the dashboard page; open http://127.0.0.1:{admin}/dashboard#token=demo-token-only-for-loopback in a browser',
    request: { address: '127.0.0.1', port: 'admin', method: 'HEAD', path: '/dashboard' },
    expect: (status, h) => (status === 200 && /^text\/html/.test(String(h['content-type'])) ? undefined : `expected 200 text/html, got ${status} ${String(h['content-type'])}`),
  },
  {
    kind: 'http',
    command: `curl -s -H '${TOKEN}' http://127.0.0.1:{admin}/v1/dashboard`,
    comment: "the dashboard's data: every POP's state, load, hit ratio and X-Cache-Status counts, and the recent purges",
    request: { address: '127.0.0.1', port: 'admin', path: '/v1/dashboard', headers: { authorization: 'Bearer demo-token-only-for-loopback' } },
    expect: (status, h) => (status === 200 && /^application\/json/.test(String(h['content-type'])) ? undefined : `expected 200 JSON, got ${status}`),
  },
  {
    kind: 'http',
    command: `curl -s -X POST -H '${TOKEN}' http://127.0.0.1:{admin}/v1/pops/us-newyork/drain`,
    comment: 'drain the New York POP (or: npx geocdn drain us-newyork -c {config})',
    request: { address: '127.0.0.1', port: 'admin', method: 'POST', path: '/v1/pops/us-newyork/drain', headers: { authorization: 'Bearer demo-token-only-for-loopback' } },
    expect: (status) => (status === 200 ? undefined : `expected 200, got ${status}`),
  },
  {
    kind: 'dns',
    command: 'dig @127.0.0.1 -p {dns} cdn.example.test +subnet=8.8.8.0/24',
    comment: 'US clients now go to eu-milan (127.0.0.2), with the short failover TTL',
    query: { name: 'cdn.example.test', type: RRType.A, subnet: '8.8.8.0/24' },
    expect: (m) => want(answers(m).join() === '127.0.0.2' && m.answers[0]?.ttl === 5, 'expected 127.0.0.2 with TTL 5'),
  },
  {
    kind: 'http',
    command: `curl -s -X POST -H '${TOKEN}' http://127.0.0.1:{admin}/v1/pops/us-newyork/undrain`,
    comment: 'and back',
    request: { address: '127.0.0.1', port: 'admin', method: 'POST', path: '/v1/pops/us-newyork/undrain', headers: { authorization: 'Bearer demo-token-only-for-loopback' } },
    expect: (status) => (status === 200 ? undefined : `expected 200, got ${status}`),
  },
];

export interface TourPorts {
  dns: number;
  http: number;
  admin: number;
  /** The edges' HTTPS port; 8443 when not given. */
  https?: number;
  /** The config the demo runs (moved with --port), for the geocdn commands; examples/demo.yaml when not given. */
  config?: string;
}

const fill = (command: string, p: TourPorts) =>
  command
    .replaceAll('{dns}', String(p.dns))
    .replaceAll('{https}', String(p.https ?? 8443))
    .replaceAll('{http}', String(p.http))
    .replaceAll('{admin}', String(p.admin))
    .replaceAll('{config}', p.config ?? 'examples/demo.yaml');

export function printTour(p: TourPorts): string {
  return tourSteps.map((s) => `  # ${fill(s.comment, p)}\n  ${fill(s.command, p)}`).join('\n');
}

/** Runs every step against the demo; returns one line per step and whether all passed. */
export async function checkTour(p: TourPorts): Promise<{ ok: boolean; lines: string[] }> {
  const lines: string[] = [];
  let ok = true;
  for (const step of tourSteps) {
    let problem: string | undefined;
    try {
      if (step.kind === 'dns') problem = step.expect(await ask(p.dns, step.query));
      else {
        const r = step.request;
        const { status, headers, version } = r.port === 'https' ? await http2Ask(r, p.https ?? 8443) : await httpAsk(r, r.port === 'http' ? p.http : p.admin);
        problem = step.expect(status, headers, version);
      }
    } catch (e) {
      problem = (e as Error).message;
    }
    if (problem) ok = false;
    lines.push(`${problem ? 'FAIL' : 'ok  '}  ${fill(step.command, p)}${problem ? `  -- ${problem}` : ''}`);
  }
  return { ok, lines };
}

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  version: string;
}

function httpAsk(r: HttpStep['request'], port: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: r.address, port, method: r.method ?? 'GET', path: r.path, headers: { ...(r.host ? { host: `${r.host}:${port}` } : {}), ...r.headers }, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, version: res.httpVersion }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end(r.body);
  });
}

/** As `curl --http2 -k --resolve`: TLS to the address with the host as SNI, HTTP/2 by ALPN. */
function http2Ask(r: HttpStep['request'], port: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`https://${r.address}:${port}`, { servername: r.host, rejectUnauthorized: false, ALPNProtocols: ['h2', 'http/1.1'] });
    const timer = setTimeout(() => session.destroy(new Error('no answer within 5 s')), 5000);
    session.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    const req = session.request({ ':method': r.method ?? 'GET', ':path': r.path, ':authority': `${r.host ?? r.address}:${port}`, ...r.headers });
    req.on('response', (h) => {
      req.resume();
      req.on('end', () => {
        clearTimeout(timer);
        session.close();
        resolve({ status: Number(h[':status']), headers: h as Record<string, string | string[] | undefined>, version: session.alpnProtocol === 'h2' ? '2.0' : String(session.alpnProtocol) });
      });
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

async function ask(port: number, q: DnsStep['query']): Promise<Message> {
  let ecs;
  if (q.subnet) {
    const [addr, len] = q.subnet.split('/');
    const prefix = Number(len);
    ecs = { family: 1 as const, sourcePrefix: prefix, scopePrefix: 0, address: Uint8Array.from(addr.split('.').map(Number).slice(0, Math.ceil(prefix / 8))) };
  }
  const packet = encodeQuery(q.name, q.type, { edns: ecs ? { ecs } : true });
  return decodeMessage(q.tcp ? await tcpAsk(port, packet) : await udpAsk(port, packet));
}

function udpAsk(port: number, packet: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('no answer within 2 s'));
    }, 2000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.send(packet, port, '127.0.0.1');
  });
}

async function tcpAsk(port: number, packet: Buffer): Promise<Buffer> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const c = connect({ port, host: '127.0.0.1' }, () => c.write(Buffer.concat([Buffer.from([packet.length >> 8, packet.length & 0xff]), packet])));
    let buf = Buffer.alloc(0);
    c.setTimeout(2000, () => {
      c.destroy();
      reject(new Error('no answer within 2 s'));
    });
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        c.end();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    c.on('error', reject);
  });
}
