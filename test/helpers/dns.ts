import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Nameserver } from '../../src/dns/nameserver.js';
import { decodeMessage, encodeQuery, type Message, type QueryOptions } from '../../src/dns/wire/message.js';
import { tempDir } from './tmp.js';
import { discardingLogger } from './log.js';
import { withOwnStateDir } from './state-dir.js';

/** Sends one UDP packet and resolves with the first answer (or undefined after `timeoutMs`). */
export function udpExchange(port: number, packet: Buffer, host = '127.0.0.1', timeoutMs = 2000): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, timeoutMs);
    s.on('message', (msg) => {
      clearTimeout(timer);
      s.close();
      resolve(msg);
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      s.close();
      reject(e);
    });
    s.send(packet, port, host);
  });
}

/** Sends several framed queries on one TCP connection; resolves with the answers in order. */
export function tcpExchange(port: number, packets: Buffer[], host = '127.0.0.1', timeoutMs = 3000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const answers: Buffer[] = [];
    let pending = Buffer.alloc(0);
    const c = connect({ port, host });
    const timer = setTimeout(() => {
      c.destroy();
      resolve(answers);
    }, timeoutMs);
    c.on('connect', () => {
      c.write(Buffer.concat(packets.map((p) => Buffer.concat([Buffer.from([p.length >> 8, p.length & 0xff]), p]))));
    });
    c.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        answers.push(pending.subarray(2, 2 + pending.readUInt16BE(0)));
        pending = pending.subarray(2 + pending.readUInt16BE(0));
      }
      if (answers.length === packets.length) {
        clearTimeout(timer);
        c.end();
        resolve(answers);
      }
    });
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    c.on('close', () => {
      clearTimeout(timer);
      resolve(answers);
    });
  });
}

export async function query(port: number, name: string, type: number, opts: QueryOptions & { tcp?: boolean } = {}): Promise<Message> {
  const packet = encodeQuery(name, type, opts);
  const raw = opts.tcp ? (await tcpExchange(port, [packet]))[0] : await udpExchange(port, packet);
  if (!raw) throw new Error(`no answer for ${name}/${type}`);
  return decodeMessage(raw);
}

export interface TestNameserver {
  ns: Nameserver;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/** Writes a config and zone files into a temp dir and starts a nameserver on a free port. */
export async function startNameserver(files: Record<string, string>, configYaml: string, listen = '127.0.0.1:0'): Promise<TestNameserver> {
  const dir = tempDir('geocdn-test-');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  writeFileSync(join(dir, 'geocdn.yaml'), withOwnStateDir(configYaml, dir));
  const ns = await Nameserver.start(join(dir, 'geocdn.yaml'), discardingLogger('test'), undefined, [listen]);
  return { ns, port: ns.server.bound.udp[0].port, dir, stop: () => ns.stop() };
}

let digChecked: boolean | undefined;
/** Whether `dig` (Debian bind9-dnsutils) is installed. */
export function hasDig(): boolean {
  if (digChecked === undefined) digChecked = spawnSync('dig', ['-v'], { stdio: 'ignore' }).status === 0;
  return digChecked;
}
export const NO_DIG = 'dig not installed (Debian package bind9-dnsutils)';

const execFileAsync = promisify(execFile);
/** Runs dig against the test server (asynchronously: the server runs in this process). */
export async function dig(port: number, args: string[], server = '127.0.0.1'): Promise<string> {
  const { stdout } = await execFileAsync('dig', [`@${server}`, '-p', String(port), '+time=2', '+tries=1', ...args], { encoding: 'utf8' });
  return stdout;
}
