import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { type TestEdge, startEdge } from './helpers/edge-harness.js';
import { tempDir } from './helpers/tmp.js';

// A Debian mirror through the edge, as apt uses it: a small repository built here
// (one hand-made .deb), served by an origin with a mirror's cache rules
// (indexes short-lived, packages immutable), and apt-get against the edge.

const TOOLS = ['apt-get', 'dpkg-deb', 'dpkg-scanpackages'];
const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0);
const skip = missing.length > 0 ? `${missing.join(', ')} not installed (Debian packages apt, dpkg, dpkg-dev)` : process.getuid?.() !== 0 ? 'apt-get needs root for its own state here' : false;
const run = promisify(execFile);

describe('an apt repository through the edge', { skip }, () => {
  const work = tempDir('geocdn-apt-');
  const repo = join(work, 'repo');
  const requests = new Map<string, number>();
  let origin: ReturnType<typeof createServer>;
  let edge: TestEdge;
  let deb: Buffer;

  before(async () => {
    const pkg = join(work, 'pkg');
    mkdirSync(join(pkg, 'DEBIAN'), { recursive: true });
    mkdirSync(join(pkg, 'usr/share/doc/geocdn-hello'), { recursive: true });
    writeFileSync(join(pkg, 'DEBIAN/control'), 'Package: geocdn-hello\nVersion: 1.0\nArchitecture: all\nMaintainer: geocdn tests <tests@example.test>\nDescription: a package served through a geocdn edge\n');
    writeFileSync(join(pkg, 'usr/share/doc/geocdn-hello/README'), 'hello from the mirror\n'.repeat(2000));
    mkdirSync(repo);
    await run('dpkg-deb', ['--root-owner-group', '--build', pkg, join(repo, 'geocdn-hello_1.0_all.deb')]);
    deb = readFileSync(join(repo, 'geocdn-hello_1.0_all.deb'));
    const { stdout: packages } = await run('dpkg-scanpackages', ['--multiversion', '.', '/dev/null'], { cwd: repo });
    writeFileSync(join(repo, 'Packages'), packages);
    writeFileSync(join(repo, 'Packages.gz'), gzipSync(packages));
    const sums = ['Packages', 'Packages.gz'].map((f) => {
      const b = readFileSync(join(repo, f));
      return ` ${createHash('sha256').update(b).digest('hex')} ${b.length} ${f}`;
    });
    writeFileSync(join(repo, 'Release'), `Origin: geocdn-test\nLabel: geocdn-test\nSuite: stable\nCodename: stable\nDate: ${new Date().toUTCString()}\nArchitectures: all amd64\nSHA256:\n${sums.join('\n')}\n`);

    origin = createServer((req, res) => {
      // apt asks for flat-repository files as /./Packages
      const path = posix.normalize((req.url ?? '/').split('?')[0]!);
      requests.set(path, (requests.get(path) ?? 0) + 1);
      const file = join(repo, path.replace(/^\/+/, ''));
      if (path.includes('..') || !readdirSync(repo).includes(path.slice(1))) {
        res.writeHead(404, { 'cache-control': 'max-age=60' });
        return void res.end();
      }
      const st = statSync(file);
      const lastModified = st.mtime.toUTCString();
      // Indexes change when the mirror syncs; package files never change under one name.
      const cacheControl = path.endsWith('.deb') ? 'public, max-age=31536000, immutable' : 'public, max-age=60';
      if (req.headers['if-modified-since'] === lastModified) {
        res.writeHead(304, { 'cache-control': cacheControl, 'last-modified': lastModified });
        return void res.end();
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': st.size, 'cache-control': cacheControl, 'last-modified': lastModified });
      res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    edge = await startEdge({ sites: { '127.0.0.1': { origin: originUrl } } });
  });

  after(async () => {
    await edge?.close();
    await new Promise<void>((r) => (origin ? origin.close(() => r()) : r()));
  });

  /** apt-get with every path of its own state in `dir`, reading only our sources list. */
  async function aptGet(dir: string, args: string[], cwd = dir): Promise<string> {
    for (const d of ['state/lists/partial', 'cache/archives/partial', 'etc/sources.list.d', 'etc/preferences.d']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'etc/sources.list'), `deb [trusted=yes] http://127.0.0.1:${edge.port}/ ./\n`);
    writeFileSync(join(dir, 'status'), '');
    const options = [
      `Dir::Etc=${join(dir, 'etc')}`,
      `Dir::Etc::SourceList=${join(dir, 'etc/sources.list')}`,
      `Dir::Etc::SourceParts=${join(dir, 'etc/sources.list.d')}`,
      `Dir::Etc::Parts=${join(dir, 'etc/apt.conf.d')}`,
      `Dir::Etc::PreferencesParts=${join(dir, 'etc/preferences.d')}`,
      `Dir::State=${join(dir, 'state')}`,
      `Dir::State::status=${join(dir, 'status')}`,
      `Dir::Cache=${join(dir, 'cache')}`,
      'APT::Sandbox::User=root',
      'Debug::NoLocking=1',
      'Acquire::Languages=none',
      'Acquire::Retries=0',
      'Acquire::http::Proxy=DIRECT',
    ].flatMap((o) => ['-o', o]);
    const { stdout, stderr } = await run('apt-get', ['-q', ...options, ...args], { cwd, timeout: 60_000 });
    return stdout + stderr;
  }

  it('apt-get update and apt-get download work through the edge; the .deb is fetched from the origin once', async () => {
    const first = join(work, 'client1');
    mkdirSync(first);
    const update = await aptGet(first, ['update']);
    assert.doesNotMatch(update, /^(E|Err):/m, update);
    await aptGet(first, ['download', 'geocdn-hello']);
    assert.ok(readFileSync(join(first, 'geocdn-hello_1.0_all.deb')).equals(deb), 'the downloaded package is the one in the repository');

    // A second machine behind the same POP: indexes and the package come from the edge's cache.
    const second = join(work, 'client2');
    mkdirSync(second);
    const update2 = await aptGet(second, ['update']);
    assert.doesNotMatch(update2, /^(E|Err):/m, update2);
    await aptGet(second, ['download', 'geocdn-hello']);
    assert.ok(readFileSync(join(second, 'geocdn-hello_1.0_all.deb')).equals(deb));

    assert.equal(requests.get('/geocdn-hello_1.0_all.deb'), 1, 'the package is fetched from the origin once');
    assert.equal(requests.get('/Release'), 1, 'the fresh Release file is served from the cache');
    assert.ok(edge.context.stats.statuses.HIT >= 2, `HITs: ${JSON.stringify(edge.context.stats.statuses)}`);
  });
});
