import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RRType } from '../src/dns/wire/constants.js';
import { exampleZone } from './fixtures/test-zone.js';
import { query } from './helpers/dns.js';
import { type TestOrigin, fixed, get, startOrigin, until } from './helpers/edge-harness.js';
import { tempDir } from './helpers/tmp.js';

/**
 * The unit files in examples/systemd, as systemd would take them: `systemd-analyze verify`
 * reads them, and their ExecStart, ExecReload and stop settings are run as written, with
 * only the installed paths (/usr/local/bin/geocdn, /etc/geocdn/geocdn.yaml) pointed at
 * this checkout and a test config.
 */
const root = new URL('../../', import.meta.url).pathname;
const unitsDir = join(root, 'examples/systemd');
const geocdn = join(root, 'bin/geocdn');
const INSTALLED_BIN = '/usr/local/bin/geocdn';
const INSTALLED_CONFIG = '/etc/geocdn/geocdn.yaml';

const analyze = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
const NO_ANALYZE = analyze.error || analyze.status !== 0 ? 'systemd-analyze not installed (Debian package systemd)' : undefined;

/** The [Service] settings of a unit file: key → values in order (comments and other sections left out). */
function serviceSettings(file: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = '';
  for (const line of readFileSync(join(unitsDir, file), 'utf8').split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    if (t.startsWith('[')) section = t;
    else if (section === '[Service]') {
      const at = t.indexOf('=');
      const key = t.slice(0, at);
      settings.set(key, [...(settings.get(key) ?? []), t.slice(at + 1)]);
    }
  }
  return settings;
}

function only(settings: Map<string, string[]>, key: string): string {
  const v = settings.get(key);
  assert.equal(v?.length, 1, `one ${key}=`);
  return v[0]!;
}

/** A command line from a unit, with the installed paths replaced, `%i` and `$MAINPID` filled in. */
function commandOf(line: string, config: string, vars: { instance?: string; mainPid?: number } = {}): string[] {
  return line.split(/\s+/).map((word) => {
    if (word === INSTALLED_BIN) return geocdn;
    if (word === INSTALLED_CONFIG) return config;
    if (word === '%i' && vars.instance !== undefined) return vars.instance;
    if (word === '$MAINPID' && vars.mainPid !== undefined) return String(vars.mainPid);
    return word;
  });
}

function startService(argv: string[]): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; log: () => string } {
  const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, GEOCDN_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, exited, log: () => log };
}

/** Resolves with the exit, or rejects once `seconds` pass: systemd would kill the service then. */
function within<T>(p: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done within ${seconds} s`)), seconds * 1000)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const randomPort = (): number => 20000 + Math.floor(Math.random() * 12000);

describe('systemd units in examples/systemd', () => {
  it('systemd-analyze verify accepts both, with no warning', { skip: NO_ANALYZE }, () => {
    const dir = tempDir('geocdn-units-');
    // The checked copies name this checkout's command (verify wants an executable there); the template is instantiated.
    const copies: Array<[string, string]> = [
      ['geocdn-dns.service', 'geocdn-dns.service'],
      ['geocdn-edge@.service', 'geocdn-edge@eu-test.service'],
    ];
    for (const [from, to] of copies) writeFileSync(join(dir, to), readFileSync(join(unitsDir, from), 'utf8').replaceAll(INSTALLED_BIN, geocdn));
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...copies.map(([, to]) => join(dir, to))], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '');
  });

  it('geocdn-dns.service: ExecStart serves, ExecReload reloads the zones, the stop signal stops it cleanly', async () => {
    const unit = serviceSettings('geocdn-dns.service');
    const dir = tempDir('geocdn-unit-dns-');
    const port = randomPort();
    const config = join(dir, 'geocdn.yaml');
    writeFileSync(join(dir, 'example.test.zone'), exampleZone);
    writeFileSync(config, `dns:\n  listen: ["127.0.0.1:${port}"]\nzones:\n  - origin: example.test\n    file: example.test.zone\n`);
    const service = startService(commandOf(only(unit, 'ExecStart'), config));
    try {
      await until(() => service.log().includes('nameserver started'), 'the nameserver to start');
      assert.equal((await query(port, 'cdn.example.test', RRType.A)).answers.length, 1);

      writeFileSync(join(dir, 'example.test.zone'), exampleZone.replace('cdn  30 IN A    192.0.2.80', 'cdn 30 IN A 192.0.2.88'));
      const reload = commandOf(only(unit, 'ExecReload'), config, { mainPid: service.child.pid });
      assert.equal(spawnSync(reload[0]!, reload.slice(1)).status, 0, reload.join(' '));
      await until(() => service.log().includes('reloaded'), 'the reload');
      const m = await query(port, 'cdn.example.test', RRType.A);
      assert.deepEqual([...(m.answers[0]!.data as { bytes: Uint8Array }).bytes], [192, 0, 2, 88]);
    } finally {
      service.child.kill((unit.get('KillSignal')?.[0] as NodeJS.Signals | undefined) ?? 'SIGTERM');
    }
    // systemd's default stop timeout: 90 s
    assert.deepEqual(await within(service.exited, Number(unit.get('TimeoutStopSec')?.[0] ?? 90), 'stop'), { code: 0, signal: null });
  });

  describe('geocdn-edge@.service', () => {
    let origin: TestOrigin;
    before(async () => {
      origin = await startOrigin();
      origin.route('/unit', fixed(200, { 'cache-control': 'max-age=60' }, 'served by the unit'));
    });
    after(() => origin.close());

    it('ExecStart runs the POP named by the instance, with its disk cache; ExecReload reads the sites again; the stop signal stops it within TimeoutStopSec', async () => {
      const unit = serviceSettings('geocdn-edge@.service');
      const dir = tempDir('geocdn-unit-edge-');
      const port = randomPort();
      const config = join(dir, 'geocdn.yaml');
      // As the unit's comment says: the disk tier under CacheDirectory, one folder per POP.
      writeFileSync(
        config,
        `edge:\n  pops:\n    eu-test: { listen: "127.0.0.1:${port}" }\n  disk: { path: "${join(dir, 'cache', '{pop}')}", size: 16MiB }\nsites:\n  www.example.test:\n    origin: "${origin.url}"\n`,
      );
      const service = startService(commandOf(only(unit, 'ExecStart'), config, { instance: 'eu-test' }));
      try {
        await until(() => service.log().includes('edge listening'), 'the edge to listen');
        const edge = { port };
        assert.equal((await get(edge, '/unit')).headers['x-cache-status'], 'MISS');
        const hit = await get(edge, '/unit');
        assert.equal(hit.headers['x-cache-status'], 'HIT');
        assert.equal(hit.text, 'served by the unit');
        const health = JSON.parse((await get(edge, '/.well-known/geocdn/health')).text);
        assert.equal(health.cache.disk.path, join(dir, 'cache', 'eu-test'));

        // ExecReload: a site added to the file is served, the cache stays.
        writeFileSync(config, `${readFileSync(config, 'utf8')}  www2.example.test:\n    origin: "${origin.url}"\n`);
        const reload = commandOf(only(unit, 'ExecReload'), config, { mainPid: service.child.pid });
        assert.equal(spawnSync(reload[0]!, reload.slice(1)).status, 0, reload.join(' '));
        await until(() => service.log().includes('edge config reloaded'), 'the reload');
        assert.equal((await get(edge, '/unit', { headers: { host: 'www2.example.test' } })).status, 200);
        assert.equal((await get(edge, '/unit')).headers['x-cache-status'], 'HIT');
      } finally {
        service.child.kill((unit.get('KillSignal')?.[0] as NodeJS.Signals | undefined) ?? 'SIGTERM');
      }
      assert.deepEqual(await within(service.exited, Number(only(unit, 'TimeoutStopSec')), 'stop'), { code: 0, signal: null });
    });
  });
});
