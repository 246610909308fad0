import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { request } from 'node:http';
import { type TestOrigin, fixed, gate, get, startOrigin } from './helpers/edge-harness.js';
import { tempDir } from './helpers/tmp.js';

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));

describe('geocdn edge (the command)', () => {
  let origin: TestOrigin;
  let dir: string;
  before(async () => {
    origin = await startOrigin();
    origin.route('/hello', fixed(200, { 'cache-control': 'max-age=60' }, 'hello from origin'));
    dir = tempDir('geocdn-edge-cli-');
  });
  after(() => origin.close());

  it('starts from a YAML config with --pop, serves and caches, stops on SIGTERM', async () => {
    const config = join(dir, 'geocdn.yaml');
    writeFileSync(
      config,
      `edge:
  listen: "127.0.0.1:1"
  pops:
    eu-test: { listen: "127.0.0.1:0" }
sites:
  www.example.test:
    origin: "${origin.url}"
    grace_s: 600
`,
    );
    const child = spawn(process.execPath, [cli, 'edge', '--config', config, '--pop', 'eu-test'], { env: { ...process.env, GEOCDN_LOG_LEVEL: 'info' } });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const port = await new Promise<number>((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /"address":"127\.0\.0\.1:(\d+)"/.exec(err);
        if (m) resolve(Number(m[1]));
      });
      void exited.then((code) => reject(new Error(`edge exited (${code}): ${err}`)));
    });
    const a = await get({ port }, '/hello', { agent: false });
    const b = await get({ port }, '/hello', { agent: false });
    assert.equal(a.text, 'hello from origin');
    assert.equal(a.headers['x-cache-status'], 'MISS');
    assert.equal(b.headers['x-cache-status'], 'HIT');
    assert.equal(b.headers['via'], '1.1 geocdn-eu-test');
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });

  /** Starts `geocdn edge --pop eu-test` on a port of its own; resolves with the port once it listens. */
  async function startEdgeCommand(extraArgs: string[] = []) {
    const config = join(dir, 'signals.yaml');
    writeFileSync(config, `edge:\n  pops:\n    eu-test: { listen: "127.0.0.1:0" }\nsites:\n  www.example.test:\n    origin: "${origin.url}"\n`);
    const child = spawn(process.execPath, [cli, 'edge', '--config', config, '--pop', 'eu-test', ...extraArgs], { env: { ...process.env, GEOCDN_LOG_LEVEL: 'info' } });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let log = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        log += d.toString();
        const m = /"address":"127\.0\.0\.1:(\d+)"/.exec(log);
        if (m) resolve(Number(m[1]));
      });
      void exited.then((code) => reject(new Error(`edge exited (${code}): ${log}`)));
    });
    return { child, exited, port, log: () => log };
  }

  it('a --pop the config does not name is refused (a typo would serve on the default address under a wrong name)', async () => {
    const config = join(dir, 'pops.yaml');
    writeFileSync(config, `edge:\n  pops:\n    eu-test: { listen: "127.0.0.1:0" }\nsites:\n  www.example.test:\n    origin: "${origin.url}"\n`);
    const child = spawn(process.execPath, [cli, 'edge', '--config', config, '--pop', 'eu-tset'], { env: { ...process.env, GEOCDN_LOG_LEVEL: 'info' } });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const serving = setTimeout(() => child.kill('SIGKILL'), 5_000); // it ran instead of refusing
    assert.equal(await new Promise((r) => child.on('exit', r)), 2, err);
    clearTimeout(serving);
    assert.match(err, /^GEOCDN_USAGE: .*"eu-tset".*eu-test/);
  });

  it('SIGHUP reads the sites again: a new site is served and a changed rule applies, the cache stays; a bad file is refused, an edge-section change waits for a restart', async () => {
    origin.route('/private', fixed(200, { 'cache-control': 'max-age=60' }, 'private'));
    const edge = await startEdgeCommand();
    const config = join(dir, 'signals.yaml');
    const seen = (re: RegExp): number => edge.log().split('\n').filter((l) => re.test(l)).length;
    const reload = async (text: string, expect: RegExp): Promise<void> => {
      const before = seen(expect);
      writeFileSync(config, text);
      edge.child.kill('SIGHUP');
      for (let i = 0; i < 100 && seen(expect) === before; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(seen(expect), before + 1, `no ${String(expect)} in the log:\n${edge.log()}`);
    };
    const status = async (path: string, host = 'www.example.test'): Promise<string> => {
      const r = await get({ port: edge.port }, path, { agent: false, headers: { host } });
      return `${r.status} ${String(r.headers['x-cache-status'] ?? '-')}`;
    };
    try {
      assert.equal(await status('/hello'), '200 MISS');
      assert.equal(await status('/private'), '200 MISS');
      assert.equal(await status('/hello', 'new.example.test'), '421 -', 'not a site yet');

      const pops = `edge:\n  pops:\n    eu-test: { listen: "127.0.0.1:0" }\n`;
      const sites = `sites:\n  www.example.test:\n    origin: "${origin.url}"\n    bypass: { paths: ["/private"] }\n  new.example.test:\n    origin: "${origin.url}"\n`;
      await reload(pops + sites, /edge config reloaded/);
      assert.equal(await status('/hello'), '200 HIT', 'the cache is kept');
      assert.equal(await status('/private'), '200 BYPASS', 'the new rule applies');
      assert.equal(await status('/hello', 'new.example.test'), '200 MISS', 'the new site is served');

      await reload(`${pops}sites:\n  www.example.test:\n    origin: 42\n`, /GEOCDN_CONFIG_INVALID.*signals.yaml:6.*reload refused/);
      assert.equal(await status('/hello', 'new.example.test'), '200 HIT', 'a bad file changes nothing');

      const warnings = seen(/apply at the next restart/);
      await reload(`edge:\n  pops:\n    eu-test: { listen: "127.0.0.1:0" }\n    eu-other: { listen: "127.0.0.1:0" }\n${sites}`, /edge config reloaded/);
      assert.equal(seen(/apply at the next restart/), warnings, 'a POP added elsewhere is no change for this edge');

      await reload(`edge:\n  memory_size: 1MiB\n  pops:\n    eu-test: { listen: "127.0.0.1:0" }\n${sites}`, /apply at the next restart/);
      assert.match(edge.log(), /"sections":\["edge"\]/);
      assert.equal(await status('/hello'), '200 HIT', 'the memory tier was not resized');
    } finally {
      edge.child.kill('SIGTERM');
      assert.equal(await edge.exited, 0);
    }
  });

  it('with Redis down the edge still starts; a SIGHUP while it starts does not end it and is carried out once started', async () => {
    // Nothing answers on port 1: the edge serves on its port but waits for Redis before it is fully started.
    const config = join(dir, 'early-hup.yaml');
    writeFileSync(config, `edge:\n  pops:\n    eu-test: { listen: "127.0.0.1:0" }\ncluster:\n  redis: "redis://127.0.0.1:1"\n  state_dir: "${join(dir, 'early-hup-state')}"\nsites:\n  www.example.test:\n    origin: "${origin.url}"\n`);
    const child = spawn(process.execPath, [cli, 'edge', '--config', config, '--pop', 'eu-test'], { env: { ...process.env, GEOCDN_LOG_LEVEL: 'info' } });
    const exited = new Promise<string>((r) => child.on('exit', (code, signal) => r(`${code} ${signal}`)));
    let log = '';
    try {
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          log += d.toString();
          if (/cluster bus error/.test(log)) resolve();
        });
        void exited.then((how) => reject(new Error(`edge exited (${how}): ${log}`)));
      });
      child.kill('SIGHUP'); // systemctl reload right after a (re)start
      const outcome = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('running'), 1_000))]);
      assert.equal(outcome, 'running', `the edge ended on an early SIGHUP:\n${log}`);
      assert.match(log, /SIGHUP while starting/);
      // Redis still down: the edge finishes starting anyway (its admin API and reloads come after the bus), then reloads.
      for (let i = 0; i < 100 && !/edge config reloaded/.test(log); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(log, /edge listening/);
      assert.match(log, /edge config reloaded/, 'the SIGHUP taken while starting is carried out once started');
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  });

  it('a request with a body (POST, PUT) is passed on and logged, and the edge keeps serving', async () => {
    origin.route('/form', (req, res, body) => void res.writeHead(201, { 'content-type': 'text/plain' }).end(`${req.method} ${body.toString()}`));
    const edge = await startEdgeCommand();
    try {
      // the access line is written once the response closes; the origin client has by then released the request body
      const post = await get({ port: edge.port }, '/form', { method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(post.status, 201);
      assert.equal(post.text, 'POST a=1');
      const put = await get({ port: edge.port }, '/form', { method: 'PUT', body: 'b=2', agent: false });
      assert.equal(put.text, 'PUT b=2');
      for (let i = 0; i < 40 && (edge.log().match(/"url":"\/form"/g) ?? []).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(edge.log(), /"client":"127\.0\.0\.1","method":"POST","host":"www\.example\.test","url":"\/form","status":201/);
      assert.equal((await get({ port: edge.port }, '/hello', { agent: false })).text, 'hello from origin');
    } finally {
      edge.child.kill('SIGTERM');
      assert.equal(await edge.exited, 0, edge.log());
    }
  });

  it('SIGTERM lets a response in flight finish, then exits 0', async () => {
    const release = gate();
    origin.route('/slow', async (_req, res) => {
      res.writeHead(200, { 'content-length': '10', 'cache-control': 'max-age=60' });
      res.write('first');
      await release.promise;
      res.end('-last');
    });
    const edge = await startEdgeCommand();
    const body = new Promise<string>((resolve, reject) => {
      const req = request({ port: edge.port, path: '/slow', headers: { host: 'www.example.test' }, agent: false }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
          if (text === 'first') {
            edge.child.kill('SIGTERM');
            setTimeout(release.open, 300);
          }
        });
        res.on('end', () => resolve(text));
        res.on('close', () => (res.complete ? undefined : reject(new Error(`cut after ${JSON.stringify(text)}`))));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(await body, 'first-last');
    assert.equal(await edge.exited, 0);
  });

  it('refuses to start without --config', async () => {
    const child = spawn(process.execPath, [cli, 'edge'], { stdio: 'ignore' });
    assert.equal(await new Promise((r) => child.on('exit', r)), 2);
  });
});
