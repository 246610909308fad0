import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { drainCommand } from '../src/cli/drain.js';
import { statusCommand } from '../src/cli/status.js';
import { RRType } from '../src/dns/wire/constants.js';
import type { Message } from '../src/dns/wire/message.js';
import { rdataToText } from '../src/dns/wire/rdata.js';
import { capture } from './helpers/console.js';
import { query } from './helpers/dns.js';
import { type FakeEdge, startEdges } from './helpers/health-edges.js';
import { startHealthNameserver, type HealthNameserver } from './helpers/health-ns.js';
import { capturingLogger } from './helpers/log.js';
import { tempDir } from './helpers/tmp.js';

/**
 * A drain kept across restarts (gdnsd's admin_state): real nameservers over
 * one state folder, drained through the admin API and `geocdn drain`,
 * stopped and started again, asked over UDP which POP they answer.
 */
const TOKEN = 'drain-restart-test-token-0123';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = async (r: Response): Promise<any> => r.json();

interface Setup {
  /** The POPs in the config, in the service's order. */
  pops?: readonly string[];
  node?: string;
  stateDir: string;
}

function config(edges: readonly FakeEdge[], s: Setup): string {
  const pops = s.pops ?? ['a', 'b', 'c'];
  return `dns: { listen: ["127.0.0.1:0"], watch: false }
zones: [{ origin: example.test, file: example.test.zone }]
pops:
${pops.map((p, i) => `  ${p}: { addresses: [192.0.2.${i + 1}], location: [45.46, 9.19], edge: "${edges[i]!.url}" }`).join('\n')}
services:
  cdn.example.test: { ttl: 30, route: { default: [${pops.join(', ')}] } }
director: director.example.test
director_service: cdn.example.test
health: { interval_ms: 1000, timeout_ms: 500, failover_ttl: 10 }
admin: { listen: "127.0.0.1:0", token: ${TOKEN} }
cluster: { node: ${s.node ?? 'ns1'}, state_dir: ${JSON.stringify(s.stateDir)} }
`;
}

const rrText = (m: Message) => m.answers.map((r) => `${r.name.key} ${r.ttl} ${rdataToText(r.type, r.data)}`);
const answer = async (t: HealthNameserver) => rrText(await query(t.port, 'cdn.example.test', RRType.A));
const director = async (t: HealthNameserver) => rrText(await query(t.port, 'director.example.test', RRType.TXT))[0]!;
const post = (t: HealthNameserver, path: string) => fetch(`${t.ns.admin!.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
const popStates = async (t: HealthNameserver): Promise<Record<string, { kind: string; reason: string; since: string }>> => {
  const r = await body(await fetch(`${t.ns.admin!.url}/v1/pops`, { headers: { authorization: `Bearer ${TOKEN}` } }));
  return Object.fromEntries(r.pops.map((p: { name: string; state: { kind: string; reason: string; since: string } }) => [p.name, p.state]));
};
const drainsIn = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

describe('an admin drain survives a nameserver restart (drains file in cluster.state_dir)', () => {
  let edges: FakeEdge[];
  const running: HealthNameserver[] = [];
  /** A nameserver in `dir` (config, zone), stopped with the others at the end if the test has not. */
  const start = async (dir: string, setup: Setup, logger?: ReturnType<typeof capturingLogger>['logger']) => {
    const t = await startHealthNameserver(config(edges, setup), logger ? { dir, logger } : { dir });
    running.push(t);
    return t;
  };
  const stop = async (t: HealthNameserver) => {
    running.splice(running.indexOf(t), 1);
    await t.stop();
  };

  before(async () => {
    edges = await startEdges(3);
    process.env.GEOCDN_ADMIN_TOKEN = TOKEN;
  });
  after(async () => {
    await Promise.all(running.map((t) => t.stop()));
    await Promise.all(edges.map((e) => e.stop()));
  });

  test('geocdn drain, restart on the same state dir: the POP is still avoided over DNS, and /v1/pops and geocdn status show it draining with its reason; undrained, restart: answered again', async () => {
    const dir = tempDir('geocdn-drains-');
    const setup = { stateDir: join(dir, 'state') };
    let t = await start(dir, setup);
    assert.deepEqual(await answer(t), ['cdn.example.test 30 192.0.2.1']);

    const drained = await capture(() => drainCommand.run(['a', '--admin', t.ns.admin!.url, '--reason', 'kernel upgrade']));
    assert.equal(drained.code, 0, drained.err);
    assert.equal(drained.out, `${t.ns.admin!.url}  a draining (kernel upgrade)`);
    assert.equal(drained.err, '');
    const since = (await popStates(t)).a!.since;
    await stop(t);

    t = await start(dir, setup);
    assert.deepEqual(await answer(t), ['cdn.example.test 10 192.0.2.2'], 'the drained POP is avoided from the first answer on');
    assert.match(await director(t), /because a draining"$/);
    assert.deepEqual(drainsIn(join(dir, 'state', 'drains-ns1.json')), { drains: [{ pop: 'a', reason: 'kernel upgrade', since }] });
    const states = await popStates(t);
    assert.deepEqual([states.a!.kind, states.a!.reason, states.a!.since], ['draining', 'kernel upgrade', since], 'since: when it was drained, not when it was read back');
    assert.equal(states.b!.kind, 'up');
    const status = await capture(() => statusCommand.run(['--admin', t.ns.admin!.url]));
    assert.equal(status.code, 0, status.err);
    assert.match(status.out.split('\n')[1]!, /^a\s+127\.0\.0\.1:\d+\s+draining \(up\)\s+.*kernel upgrade$/);

    const undone = await capture(() => drainCommand.run(['a', '--undo', '--admin', t.ns.admin!.url]));
    assert.equal(undone.code, 0, undone.err);
    assert.match(undone.out, /  a up /);
    assert.deepEqual(drainsIn(join(dir, 'state', 'drains-ns1.json')), { drains: [] });
    await stop(t);

    t = await start(dir, setup);
    assert.deepEqual(await answer(t), ['cdn.example.test 30 192.0.2.1']);
    assert.equal((await popStates(t)).a!.kind, 'up');
    await stop(t);
  });

  test('the admin API answers persisted: true; two nameservers sharing a state dir keep a file each (cluster.node)', async () => {
    const shared = tempDir('geocdn-drains-');
    const dir1 = tempDir('geocdn-drains-');
    const dir2 = tempDir('geocdn-drains-');
    const ns1 = await start(dir1, { node: 'ns1', stateDir: shared });
    const ns2 = await start(dir2, { node: 'ns2', stateDir: shared });
    const r = await post(ns1, '/v1/pops/b/drain?reason=disk%20swap');
    assert.equal(r.status, 200);
    const b = await body(r);
    assert.equal(b.persisted, true);
    assert.equal(b.warning, undefined);
    assert.equal(b.state.kind, 'draining');
    await stop(ns1);
    await stop(ns2);

    const again2 = await start(dir2, { node: 'ns2', stateDir: shared });
    assert.equal((await popStates(again2)).b!.kind, 'up', 'ns2 never drained b');
    const again1 = await start(dir1, { node: 'ns1', stateDir: shared });
    assert.deepEqual([(await popStates(again1)).b!.kind, (await popStates(again1)).b!.reason], ['draining', 'disk swap']);
    await stop(again1);
    await stop(again2);
  });

  test('a drain of a POP no longer in the config is dropped at start with a log line, and leaves the file', async () => {
    const dir = tempDir('geocdn-drains-');
    const stateDir = join(dir, 'state');
    const t = await start(dir, { stateDir });
    assert.equal((await post(t, '/v1/pops/c/drain?reason=retired')).status, 200);
    assert.equal((await post(t, '/v1/pops/a/drain?reason=maintenance')).status, 200);
    await stop(t);

    const log = capturingLogger();
    const fewer = await start(dir, { stateDir, pops: ['a', 'b'] }, log.logger);
    const dropped = log.lines.find((l) => String(l.msg).includes('drain of POP c dropped'));
    assert.ok(dropped, JSON.stringify(log.lines));
    assert.equal(dropped.level, 40);
    assert.match(String(dropped.msg), /no such POP in the config/);
    assert.deepEqual(Object.keys(await popStates(fewer)), ['a', 'b']);
    assert.equal((await popStates(fewer)).a!.kind, 'draining', 'the drain of a POP still configured is kept');
    assert.deepEqual(rrText(await query(fewer.port, 'cdn.example.test', RRType.A)), ['cdn.example.test 10 192.0.2.2']);
    const file = drainsIn(join(stateDir, 'drains-ns1.json')) as { drains: { pop: string }[] };
    assert.deepEqual(file.drains.map((d) => d.pop), ['a']);
    await stop(fewer);
  });

  test('a reload that drops a drained POP drops its drain from the file too', async () => {
    const dir = tempDir('geocdn-drains-');
    const stateDir = join(dir, 'state');
    const t = await start(dir, { stateDir });
    assert.equal((await post(t, '/v1/pops/c/drain?reason=retired')).status, 200);
    writeFileSync(join(dir, 'geocdn.yaml'), config(edges, { stateDir, pops: ['a', 'b'] }));
    assert.equal(await t.ns.reload(), true);
    assert.deepEqual(drainsIn(join(stateDir, 'drains-ns1.json')), { drains: [] });
    await stop(t);
    const back = await start(dir, { stateDir });
    assert.equal((await popStates(back)).c!.kind, 'up', 'c came back to the config undrained');
    await stop(back);
  });

  for (const [what, write, error] of [
    ['cut short', (f: string) => writeFileSync(f, '{"drains": [{"pop": "a", "rea'), /not JSON/],
    ['of another shape', (f: string) => writeFileSync(f, '{"drains": [{"pop": "a"}]}'), /not a drains file: drains\.0\.reason/],
    ['a folder', (f: string) => mkdirSync(f), /EISDIR/],
  ] as const) {
    test(`a drains file that is ${what}: a warning naming the file and the error, and the nameserver starts with no POP drained`, async () => {
      const dir = tempDir('geocdn-drains-');
      const stateDir = join(dir, 'state');
      const file = join(stateDir, 'drains-ns1.json');
      mkdirSync(stateDir);
      write(file);
      const log = capturingLogger();
      const t = await start(dir, { stateDir }, log.logger);
      const warning = log.lines.find((l) => String(l.msg).startsWith('drains file'));
      assert.ok(warning, JSON.stringify(log.lines));
      assert.equal(warning.level, 40);
      assert.equal(warning.path, file);
      assert.ok(String(warning.msg).includes(file));
      assert.match(String(warning.msg), error);
      assert.match(String(warning.msg), /starting with no POP drained/);
      assert.deepEqual(await answer(t), ['cdn.example.test 30 192.0.2.1']);
      assert.deepEqual(Object.values(await popStates(t)).map((s) => s.kind), ['up', 'up', 'up']);
      await stop(t);
    });
  }

  test('a corrupt drains file is replaced whole by the next drain', async () => {
    const dir = tempDir('geocdn-drains-');
    const stateDir = join(dir, 'state');
    mkdirSync(stateDir);
    writeFileSync(join(stateDir, 'drains-ns1.json'), 'garbage');
    const t = await start(dir, { stateDir });
    assert.equal((await body(await post(t, '/v1/pops/a/drain?reason=again'))).persisted, true);
    assert.deepEqual((drainsIn(join(stateDir, 'drains-ns1.json')) as { drains: { pop: string }[] }).drains.map((d) => d.pop), ['a']);
    await stop(t);
  });

  test('a drains file that cannot be written: an error log, the answer and geocdn drain say not persisted, and the drain applies', async () => {
    const dir = tempDir('geocdn-drains-');
    // A file where the state folder should be: neither it nor the drains file in it can be made.
    writeFileSync(join(dir, 'blocker'), '');
    const stateDir = join(dir, 'blocker', 'state');
    const log = capturingLogger();
    const t = await start(dir, { stateDir }, log.logger);
    const r = await post(t, '/v1/pops/a/drain?reason=maintenance');
    assert.equal(r.status, 200);
    const b = await body(r);
    assert.equal(b.state.kind, 'draining');
    assert.equal(b.persisted, false);
    assert.match(b.warning, /^not persisted \(.*(ENOTDIR|EEXIST).*\): this nameserver applies it now, but a restart would read back the drains written before$/);
    assert.deepEqual(await answer(t), ['cdn.example.test 10 192.0.2.2']);
    const error = log.lines.find((l) => String(l.msg).startsWith('drains not written'));
    assert.ok(error, JSON.stringify(log.lines));
    assert.equal(error.level, 50);
    assert.equal(error.path, join(stateDir, 'drains-ns1.json'));

    const cli = await capture(() => drainCommand.run(['b', '--admin', t.ns.admin!.url]));
    assert.equal(cli.code, 0, 'the nameserver took it');
    assert.match(cli.out, /  b draining \(drained by admin\)$/);
    assert.match(cli.err, /  warning: not persisted \(/);
    assert.deepEqual(await answer(t), ['cdn.example.test 10 192.0.2.3']);
    await stop(t);
  });
});
