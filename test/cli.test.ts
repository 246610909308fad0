import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { RRType } from '../src/dns/wire/constants.js';
import { drainCommand } from '../src/cli/drain.js';
import { commands } from '../src/cli/index.js';
import { statusCommand } from '../src/cli/status.js';
import { exampleZone } from './fixtures/test-zone.js';
import { capture } from './helpers/console.js';
import { query } from './helpers/dns.js';
import { tempDir } from './helpers/tmp.js';

const cli = new URL('../../dist/cli.js', import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, GEOCDN_LOG_LEVEL: 'silent' } });

function configDir(zone: string): string {
  const dir = tempDir('geocdn-cli-');
  writeFileSync(join(dir, 'example.test.zone'), zone);
  writeFileSync(join(dir, 'geocdn.yaml'), 'zones:\n  - origin: example.test\n    file: example.test.zone\n');
  return dir;
}

describe('geocdn CLI', () => {
  test('--help lists the commands; each command has help with examples', () => {
    const top = run('--help');
    assert.equal(top.status, 0);
    for (const c of commands.map((x) => x.name)) {
      assert.match(top.stdout, new RegExp(`\\b${c}\\b`));
      const h = run(c, '--help');
      assert.equal(h.status, 0, c);
      assert.match(h.stdout, /Usage: geocdn/);
      assert.match(h.stdout, /Example/);
    }
    const unknown = run('frobnicate');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /GEOCDN_USAGE/);
  });

  test('check accepts a good config and refuses a bad zone with code and file:line', () => {
    const good = run('check', '--config', join(configDir(exampleZone), 'geocdn.yaml'));
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /^ok: 1 zone/);
    const lines = exampleZone.split('\n');
    lines.splice(9, 0, 'broken IN A 999.1.1.1', 'alias IN CNAME www', 'alias IN A 192.0.2.1');
    const bad = run('check', '--config', join(configDir(lines.join('\n')), 'geocdn.yaml'));
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /GEOCDN_ZONE_SYNTAX .*example\.test\.zone:10: .*999\.1\.1\.1/);
  });

  test('check reports a config error with its line', () => {
    const dir = configDir(exampleZone);
    writeFileSync(join(dir, 'geocdn.yaml'), 'dns:\n  listen: ["127.0.0.1:5353"]\n  max_udp_payload: 100\nzones: []\n');
    const bad = run('check', '--config', join(dir, 'geocdn.yaml'));
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /GEOCDN_CONFIG_INVALID .*geocdn\.yaml:3: dns\.max_udp_payload/);
  });

  test('a YAML error is one line with its file:line, not one line per token after it', () => {
    const dir = configDir(exampleZone);
    const file = join(dir, 'geocdn.yaml');
    // `{pop}` unquoted inside a flow map: a YAML syntax error on line 3
    writeFileSync(file, 'zones: []\nedge:\n  disk: { path: /var/cache/geocdn/{pop}, size: 1GiB }\n  memory_size: 64MiB\nsites: {}\n');
    const bad = run('check', '--config', file);
    assert.equal(bad.status, 1);
    assert.deepEqual(bad.stderr.trim().split('\n').length, 2, bad.stderr);
    assert.match(bad.stderr, /^GEOCDN_CONFIG_INVALID .*geocdn\.yaml:3: YAML: /);
    writeFileSync(file, 'zones: []\nhealth:\n  fall: 2\n  fall: 3\n');
    const dup = run('check', '--config', file);
    assert.equal(dup.status, 1);
    assert.match(dup.stderr, /^GEOCDN_CONFIG_INVALID .*geocdn\.yaml:4: YAML: Map keys must be unique/);
  });

  test('a misspelt key is reported on its own line, with the key named', () => {
    const dir = configDir(exampleZone);
    const file = join(dir, 'geocdn.yaml');
    writeFileSync(file, 'zones: []\nhealth:\n  fall: 2\n  intervall_ms: 1000\n');
    const bad = run('check', '--config', file);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^GEOCDN_CONFIG_INVALID .*geocdn\.yaml:4: health\.intervall_ms: unknown key/);
  });

  test('geocdn dns on a port in use: one GEOCDN_LISTEN line, exit 1, and no probe logging after it', async () => {
    const dir = configDir(exampleZone);
    const file = join(dir, 'geocdn.yaml');
    writeFileSync(file, 'zones:\n  - origin: example.test\n    file: example.test.zone\npops:\n  eu: { addresses: [192.0.2.1], location: [45.46, 9.19], edge: "http://127.0.0.1:1" }\nservices:\n  geo.example.test: { route: { default: eu } }\nhealth: { interval_ms: 100, timeout_ms: 50 }\nadmin: { listen: false }\n');
    const taken = createSocket('udp4');
    await new Promise<void>((r) => taken.bind(0, '127.0.0.1', r));
    try {
      const r = spawnSync(process.execPath, [cli, 'dns', '--config', file, '--listen', `127.0.0.1:${taken.address().port}`], { encoding: 'utf8', env: { ...process.env, GEOCDN_LOG_LEVEL: 'info' }, timeout: 10_000 });
      assert.equal(r.status, 1);
      assert.deepEqual(r.stderr.trim().split('\n'), [r.stderr.trim().split('\n')[0]], r.stderr);
      assert.match(r.stderr, /^GEOCDN_LISTEN: cannot listen on UDP/);
    } finally {
      taken.close();
    }
  });

  test('a reload that cannot read the GeoIP database is refused and logged with GEOCDN_GEOIP_READ and the path, as geocdn check prints it', async () => {
    const dir = configDir(exampleZone);
    const file = join(dir, 'geocdn.yaml');
    const geo = 'zones:\n  - origin: example.test\n    file: example.test.zone\npops:\n  eu: { addresses: [192.0.2.1], location: [45.46, 9.19] }\nservices:\n  geo.example.test: { route: { default: eu } }\nadmin: { listen: false }\n';
    writeFileSync(file, geo);
    const port = 20000 + Math.floor(Math.random() * 12000);
    const child = spawn(process.execPath, [cli, 'dns', '--config', file, '--listen', `127.0.0.1:${port}`], { env: { ...process.env, GEOCDN_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    try {
      for (let i = 0; i < 100 && !log.includes('nameserver started'); i++) await new Promise((r) => setTimeout(r, 50));
      const missing = join(dir, 'missing.mmdb');
      writeFileSync(file, `${geo}geoip: { city: ${missing} }\n`);
      child.kill('SIGHUP');
      for (let i = 0; i < 100 && !log.includes('reload refused'); i++) await new Promise((r) => setTimeout(r, 50));
      const refused = log.split('\n').find((l) => l.includes('reload refused'));
      assert.ok(refused, log);
      assert.deepEqual(JSON.parse(refused).errors, [`GEOCDN_GEOIP_READ ${missing}: cannot read GeoIP database: ENOENT: no such file or directory, open '${missing}'`]);
      assert.equal((await query(port, 'geo.example.test', RRType.A)).answers.length, 1);
    } finally {
      child.kill('SIGTERM');
      assert.equal(await new Promise((r) => child.on('exit', r)), 0);
    }
  });

  test('a SIGHUP while geocdn dns is still loading does not end it: the reload is done once it has started', async () => {
    // A zone large enough that loading takes a while (a second or two).
    const lines = [exampleZone];
    for (let i = 0; i < 150_000; i++) lines.push(`host${i} 300 IN A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`);
    const dir = configDir(lines.join(''));
    const port = 20000 + Math.floor(Math.random() * 12000);
    const child = spawn(process.execPath, [cli, 'dns', '--config', join(dir, 'geocdn.yaml'), '--listen', `127.0.0.1:${port}`], { env: { ...process.env, GEOCDN_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<string>((r) => child.on('exit', (code, signal) => r(`${code} ${signal}`)));
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    try {
      // The moment the process catches SIGHUP (bit 0 of SigCgt): its handler is in, the zone still loading.
      const catchesHup = (): boolean => {
        const m = /^SigCgt:\s*([0-9a-f]+)/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        return m !== null && (BigInt(`0x${m[1]}`) & 1n) === 1n;
      };
      // Sent at that moment, or after 1 s at the latest (node has long started by then; the zone takes longer).
      for (let i = 0; i < 200 && !catchesHup(); i++) await new Promise((r) => setTimeout(r, 5));
      assert.doesNotMatch(log, /nameserver started/, 'loaded before the signal: the zone is too small to test this');
      child.kill('SIGHUP');
      const outcome = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('running'), 200))]);
      assert.equal(outcome, 'running', `geocdn dns ended on a SIGHUP while loading:\n${log}`);
      for (let i = 0; i < 200 && !log.includes('"msg":"reloaded"'); i++) await new Promise((r) => setTimeout(r, 50));
      // (The zone loads synchronously: the signal is taken while starting or just after; either way it is a reload.)
      assert.match(log, /nameserver started/);
      assert.match(log, /"msg":"reloaded"/, 'the reload asked for while loading, done once started');
      assert.equal((await query(port, 'cdn.example.test', RRType.A)).answers.length, 1);
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, '0 null');
    }
  });

  test('geocdn dns serves, reloads on SIGHUP, and stops on SIGTERM', async () => {
    const dir = configDir(exampleZone);
    const port = 20000 + Math.floor(Math.random() * 12000);
    const child = spawn(process.execPath, [cli, 'dns', '--config', join(dir, 'geocdn.yaml'), '--listen', `127.0.0.1:${port}`], {
      env: { ...process.env, GEOCDN_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    try {
      for (let i = 0; i < 100 && !log.includes('nameserver started'); i++) await new Promise((r) => setTimeout(r, 50));
      let m = await query(port, 'cdn.example.test', RRType.A);
      assert.equal(m.answers.length, 1);
      writeFileSync(join(dir, 'example.test.zone'), exampleZone.replace('cdn  30 IN A    192.0.2.80', 'cdn 30 IN A 192.0.2.88'));
      child.kill('SIGHUP');
      for (let i = 0; i < 100 && !log.includes('reloaded'); i++) await new Promise((r) => setTimeout(r, 50));
      m = await query(port, 'cdn.example.test', RRType.A);
      assert.deepEqual([...(m.answers[0].data as { bytes: Uint8Array }).bytes], [192, 0, 2, 88]);
    } finally {
      child.kill('SIGTERM');
      const code = await new Promise((r) => child.on('exit', r));
      assert.equal(code, 0);
    }
  });

  test('a drain outlives a restart of geocdn dns: kept by default in .geocdn/drains-<host name>.json under its working folder', async () => {
    const dir = configDir(exampleZone);
    const file = join(dir, 'geocdn.yaml');
    writeFileSync(file, 'zones:\n  - origin: example.test\n    file: example.test.zone\npops:\n  a: { addresses: [192.0.2.1], location: [45.46, 9.19] }\n  b: { addresses: [192.0.2.2], location: [50.11, 8.68] }\nservices:\n  geo.example.test: { route: { default: [a, b] } }\nadmin: { listen: "127.0.0.1:0", token: cli-drain-test-token-0123 }\n');
    const port = 20000 + Math.floor(Math.random() * 12000);
    const start = async () => {
      const child = spawn(process.execPath, [cli, 'dns', '--config', file, '--listen', `127.0.0.1:${port}`], { cwd: dir, env: { ...process.env, GEOCDN_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] });
      let log = '';
      child.stderr.on('data', (d: Buffer) => (log += d.toString()));
      for (let i = 0; i < 100 && !log.includes('nameserver started'); i++) await new Promise((r) => setTimeout(r, 50));
      const listening = log.split('\n').find((l) => l.includes('admin API listening'));
      assert.ok(listening, log);
      const stop = async () => {
        child.kill('SIGTERM');
        assert.equal(await new Promise((r) => child.on('exit', r)), 0);
      };
      return { admin: (JSON.parse(listening) as { url: string }).url, log: () => log, stop };
    };
    const geo = async () => (await query(port, 'geo.example.test', RRType.A)).answers.map((a) => [...(a.data as { bytes: Uint8Array }).bytes].join('.'));

    let ns = await start();
    try {
      assert.deepEqual(await geo(), ['192.0.2.1']);
      const drained = await capture(() => drainCommand.run(['a', '-c', file, '--admin', ns.admin, '--reason', 'kernel upgrade']));
      assert.equal(drained.code, 0, drained.err);
      assert.equal(drained.err, '');
    } finally {
      await ns.stop();
    }
    ns = await start();
    try {
      assert.deepEqual(await geo(), ['192.0.2.2']);
      assert.match(ns.log(), /drains read back from \.geocdn\/drains-[^ ]+\.json: a \(kernel upgrade\)/);
      const kept = JSON.parse(readFileSync(join(dir, '.geocdn', `drains-${hostname()}.json`), 'utf8')) as { drains: { pop: string; reason: string }[] };
      assert.deepEqual(kept.drains.map((d) => [d.pop, d.reason]), [['a', 'kernel upgrade']]);
      const status = await capture(() => statusCommand.run(['-c', file, '--admin', ns.admin]));
      assert.equal(status.code, 0, status.err);
      assert.match(status.out, /^a\s+\S+\s+draining \(up\)\s.*kernel upgrade$/m);
    } finally {
      await ns.stop();
    }
  });
});
