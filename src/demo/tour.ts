import { createSocket } from 'node:dgram';
import { Rcode, RRType } from '../dns/wire/constants.js';
import { decodeMessage, encodeQuery, type Message } from '../dns/wire/message.js';
import { rdataToText } from '../dns/wire/rdata.js';

/**
 * The demo's tour: each step is a command a user can paste and what it must
 * show. `geocdn demo` prints the steps; `geocdn demo --check` runs them and
 * fails on the first that does not behave as printed.
 */
export interface TourStep {
  /** The command as printed, with {port} for the DNS port. */
  command: string;
  comment: string;
  /** The same question, asked with geocdn's own client. */
  query: { name: string; type: number; subnet?: string; tcp?: boolean };
  /** Returns what is wrong with the answer, or undefined. */
  expect(m: Message): string | undefined;
}

const answers = (m: Message, type: number = RRType.A): string[] =>
  m.answers.filter((r) => r.type === type).map((r) => rdataToText(r.type, r.data));

const want = (cond: boolean, what: string): string | undefined => (cond ? undefined : what);

export const tourSteps: TourStep[] = [
  {
    command: 'dig @127.0.0.1 -p {port} cdn.example.test +subnet=8.8.8.0/24',
    comment: 'a US client: us-newyork (127.0.0.3), with the ECS scope',
    query: { name: 'cdn.example.test', type: RRType.A, subnet: '8.8.8.0/24' },
    expect: (m) => want(answers(m).join() === '127.0.0.3' && (m.edns?.ecs?.scopePrefix ?? 0) > 0, 'expected 127.0.0.3 with a non-zero ECS scope'),
  },
  {
    command: 'dig @127.0.0.1 -p {port} cdn.example.test +subnet=185.178.92.0/24',
    comment: 'an Italian client: eu-milan (127.0.0.2)',
    query: { name: 'cdn.example.test', type: RRType.A, subnet: '185.178.92.0/24' },
    expect: (m) => want(answers(m).join() === '127.0.0.2', 'expected 127.0.0.2'),
  },
  {
    command: 'dig @127.0.0.1 -p {port} cdn.example.test +subnet=139.130.4.0/24',
    comment: 'Australia: the nearest POP, ap-singapore (127.0.0.4)',
    query: { name: 'cdn.example.test', type: RRType.A, subnet: '139.130.4.0/24' },
    expect: (m) => want(answers(m).join() === '127.0.0.4', 'expected 127.0.0.4'),
  },
  {
    command: 'dig @127.0.0.1 -p {port} www.example.test +subnet=8.8.8.0/24',
    comment: 'a CNAME into the geo service',
    query: { name: 'www.example.test', type: RRType.A, subnet: '8.8.8.0/24' },
    expect: (m) => want(answers(m, RRType.CNAME).join() === 'cdn.example.test.' && answers(m).join() === '127.0.0.3', 'expected CNAME cdn.example.test. then 127.0.0.3'),
  },
  {
    command: 'dig @127.0.0.1 -p {port} director.example.test TXT +subnet=8.8.8.0/24',
    comment: 'how the CDN sees a client, and why this POP',
    query: { name: 'director.example.test', type: RRType.TXT, subnet: '8.8.8.0/24' },
    expect: (m) => want(/"ip 8\.8\.8\.0\/24 v4 .*country us usa.*" "pop us-newyork rule country:US/.test(answers(m, RRType.TXT).join()), 'expected the director TXT for a US client'),
  },
  {
    command: 'dig @127.0.0.1 -p {port} example.test SOA',
    comment: 'the zone apex, authoritative (flags: qr aa)',
    query: { name: 'example.test', type: RRType.SOA },
    expect: (m) => want(m.aa && !m.ra && answers(m, RRType.SOA).length === 1, 'expected one SOA with AA set and RA clear'),
  },
  {
    command: 'dig @127.0.0.1 -p {port} nope.example.test',
    comment: 'NXDOMAIN, with the SOA for negative caching',
    query: { name: 'nope.example.test', type: RRType.A },
    expect: (m) => want(m.rcode === Rcode.NXDOMAIN && m.authority[0]?.type === RRType.SOA, 'expected NXDOMAIN with the SOA in authority'),
  },
  {
    command: 'dig @127.0.0.1 -p {port} anything.wild.example.test',
    comment: 'a wildcard answer',
    query: { name: 'anything.wild.example.test', type: RRType.A },
    expect: (m) => want(answers(m).join() === '127.0.0.9', 'expected 127.0.0.9 from *.wild'),
  },
  {
    command: 'dig @127.0.0.1 -p {port} www.sub.example.test',
    comment: 'a referral to a delegated subzone, with glue',
    query: { name: 'www.sub.example.test', type: RRType.A },
    expect: (m) => want(!m.aa && m.authority[0]?.type === RRType.NS && m.additional.length > 0, 'expected a referral: AA clear, NS and glue'),
  },
  {
    command: 'dig @127.0.0.1 -p {port} long.example.test TXT +tcp',
    comment: 'a long TXT record, over TCP',
    query: { name: 'long.example.test', type: RRType.TXT, tcp: true },
    expect: (m) => want(answers(m, RRType.TXT).join().split('" "').length >= 2, 'expected a TXT split into several strings'),
  },
  {
    command: 'dig @127.0.0.1 -p {port} example.com',
    comment: 'REFUSED: never an open resolver',
    query: { name: 'example.com', type: RRType.A },
    expect: (m) => want(m.rcode === Rcode.REFUSED, 'expected REFUSED'),
  },
];

export function printTour(port: number): string {
  const width = Math.max(...tourSteps.map((s) => s.command.replace('{port}', String(port)).length));
  return tourSteps.map((s) => `  ${s.command.replace('{port}', String(port)).padEnd(width)}  # ${s.comment}`).join('\n');
}

/** Runs every step against the demo; returns one line per step and whether all passed. */
export async function checkTour(port: number): Promise<{ ok: boolean; lines: string[] }> {
  const lines: string[] = [];
  let ok = true;
  for (const step of tourSteps) {
    const command = step.command.replace('{port}', String(port));
    let problem: string | undefined;
    try {
      problem = step.expect(await ask(port, step.query));
    } catch (e) {
      problem = (e as Error).message;
    }
    if (problem) ok = false;
    lines.push(`${problem ? 'FAIL' : 'ok  '}  ${command}${problem ? `  -- ${problem}` : ''}`);
  }
  return { ok, lines };
}

async function ask(port: number, q: TourStep['query']): Promise<Message> {
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
