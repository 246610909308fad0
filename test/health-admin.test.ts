import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearerMatches } from '../src/admin/auth.js';
import { adminUrls } from '../src/admin/client.js';
import type { AdminServer } from '../src/admin/server.js';
import { startAdminApi } from '../src/admin/start.js';
import { drainCommand } from '../src/cli/drain.js';
import { statusCommand } from '../src/cli/status.js';
import { adminSectionSchema } from '../src/config/health-schema.js';
import { memoryDrainStore } from '../src/health/drain-file.js';
import { KeptDrains } from '../src/health/kept-drains.js';
import { HealthMonitor } from '../src/health/monitor.js';
import { capture } from './helpers/console.js';
import { FakeClock } from './helpers/health-clock.js';
import { FakeEdge, HEALTH_PATH } from './helpers/health-edges.js';
import { discardingLogger } from './helpers/log.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = async (r: Response): Promise<any> => r.json();
const TOKEN = 'test-token-0123456789abcdef';

describe('the admin API and the drain/status commands', () => {
  let edge: FakeEdge;
  let monitor: HealthMonitor;
  let admin: AdminServer;
  const clock = new FakeClock();

  before(async () => {
    edge = await new FakeEdge().start();
    edge.requestsPerSecond = 150;
    monitor = new HealthMonitor({ clock });
    const settings = { intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 3, tcp: false, path: HEALTH_PATH, spillover: true, maxSpillover: 0.9 };
    monitor.configure([{ name: 'eu-milan', edge: edge.url, capacity: 100 }, { name: 'us-nyc', edge: undefined, capacity: undefined }], settings);
    clock.advance(0);
    await monitor.idle();
    const section = adminSectionSchema.parse({ listen: '127.0.0.1:0', token: TOKEN });
    admin = (await startAdminApi(section, { pops: new KeptDrains(monitor, memoryDrainStore(), undefined), logger: discardingLogger('test'), node: 'ns1', now: () => clock.now(), env: {} }))!;
    process.env.GEOCDN_ADMIN_TOKEN = TOKEN;
  });
  after(async () => {
    monitor.stop();
    await admin.stop();
    await edge.stop();
  });

  const call = (path: string, init: RequestInit = {}, token: string | null = TOKEN) =>
    fetch(`${admin.url}${path}`, { ...init, headers: token === null ? {} : { authorization: `Bearer ${token}` } });

  test('bound to loopback; every request needs the bearer token (401 without, with a wrong one)', async () => {
    assert.equal(admin.address.host, '127.0.0.1');
    const none = await call('/v1/live', {}, null);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="geocdn"');
    const noneBody = await body(none);
    assert.equal(noneBody.error, 'GEOCDN_ADMIN_UNAUTHORIZED');
    assert.match(String(noneBody.message), /a bearer token is required/);
    const wrong = await call('/v1/pops', {}, 'x'.repeat(TOKEN.length));
    assert.equal(wrong.status, 401);
    // RFC 6750 §3.1: a token was sent but is not the one; say so rather than ask for one
    assert.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="geocdn", error="invalid_token"');
    assert.match(String((await body(wrong)).message), /does not match/);
    assert.equal((await call('/v1/pops', {}, `${TOKEN}x`)).status, 401);
    assert.equal(bearerMatches(`bearer  ${TOKEN}`, TOKEN), true);
    assert.equal(bearerMatches(TOKEN, TOKEN), false);
  });

  test('liveness, POP states, 404 and 405', async () => {
    const live = await call('/v1/live');
    assert.equal(live.status, 200);
    assert.deepEqual({ ...(await body(live)), uptime_s: 0 }, { status: 'ok', node: 'ns1', uptime_s: 0 });
    const pops = await body(await call('/v1/pops'));
    assert.equal(pops.node, 'ns1');
    assert.deepEqual(
      pops.pops.map((p: { name: string; state: { kind: string } }) => [p.name, p.state.kind]),
      [['eu-milan', 'up'], ['us-nyc', 'up']],
    );
    assert.equal(pops.pops[0].load.requestsPerSecond, 150);
    assert.ok(Math.abs(pops.pops[0].shed - 1 / 3) < 1e-9);
    assert.equal((await call('/v1/nope')).status, 404);
    const wrong = await call('/v1/pops/eu-milan/drain');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'POST');
    const unknown = await call('/v1/pops/nowhere/drain', { method: 'POST' });
    assert.equal(unknown.status, 404);
    assert.match((await body(unknown)).message, /POPs: eu-milan, us-nyc/);
  });

  test('geocdn drain POP, then status shows it, then drain --undo', async () => {
    const drained = await capture(() => drainCommand.run(['eu-milan', '--admin', admin.url, '--reason', 'kernel upgrade']));
    assert.equal(drained.code, 0, drained.err);
    assert.equal(drained.out, `${admin.url}  eu-milan draining (kernel upgrade)`);
    assert.equal(monitor.isAvailable(0), false);

    const status = await capture(() => statusCommand.run(['--admin', admin.url]));
    assert.equal(status.code, 0, status.err);
    const lines = status.out.split('\n');
    assert.match(lines[0]!, /^POP\s+NAMESERVER\s+STATE\s+SINCE\s+LOAD\s+SHED\s+LAST PROBE\s+WHY$/);
    assert.match(lines[1]!, /^eu-milan\s+127\.0\.0\.1:\d+\s+draining \(up\)\s+0s ago\s+150\/100 rps\s+-\s+ok \d+ ms\s+kernel upgrade$/);
    assert.match(lines[2]!, /^us-nyc\s+127\.0\.0\.1:\d+\s+up\s+0s ago\s+-\s+-\s+-\s+no edge to probe$/);

    const undone = await capture(() => drainCommand.run(['eu-milan', '--undo', '-a', admin.url]));
    assert.equal(undone.code, 0);
    assert.match(undone.out, /eu-milan up/);
    assert.equal(monitor.isAvailable(0), true);
  });

  test('status does not show a dead edge\'s last load report as its load', async () => {
    const dying = await new FakeEdge().start();
    dying.requestsPerSecond = 80;
    const own = new HealthMonitor({ clock });
    own.configure([{ name: 'eu-dead', edge: dying.url, capacity: 100 }, { name: 'us-dead', edge: dying.url, capacity: undefined }], { intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 2, tcp: false, path: HEALTH_PATH, spillover: true, maxSpillover: 0.9 });
    const api = (await startAdminApi(adminSectionSchema.parse({ listen: '127.0.0.1:0', token: TOKEN }), { pops: new KeptDrains(own, memoryDrainStore(), undefined), logger: discardingLogger('test'), node: 'ns2', now: () => clock.now(), env: {} }))!;
    try {
      clock.advance(0);
      await own.idle();
      assert.match((await capture(() => statusCommand.run(['--admin', api.url]))).out, /eu-dead .* 80\/100 rps /);
      await dying.stop();
      for (let i = 0; i < 2; i++) {
        clock.advance(1000);
        await own.idle();
      }
      const lines = (await capture(() => statusCommand.run(['--admin', api.url]))).out.split('\n');
      assert.match(lines[1]!, /^eu-dead\s+127\.0\.0\.1:\d+\s+down\s+\S+ ago\s+-\/100 rps\s+-\s+fail/);
      assert.match(lines[2]!, /^us-dead\s+127\.0\.0\.1:\d+\s+down\s+\S+ ago\s+-\s+-\s+fail/);
    } finally {
      own.stop();
      await api.stop();
    }
  });

  test('an unreachable nameserver is reported and fails the command; the others still answer', async () => {
    const closed = await new FakeEdge().start();
    await closed.stop();
    const r = await capture(() => statusCommand.run(['-a', admin.url, '-a', closed.url]));
    assert.equal(r.code, 1);
    assert.match(r.out, /eu-milan/);
    assert.equal(r.err, `${closed.url}  GEOCDN_ADMIN_UNREACHABLE: ECONNREFUSED`);
  });

  test('admin URLs: --admin, else admin.nameservers, else admin.listen', () => {
    const section = adminSectionSchema.parse({ listen: '0.0.0.0:8053', nameservers: [] });
    assert.deepEqual(adminUrls(section, []), ['http://127.0.0.1:8053']);
    assert.deepEqual(adminUrls({ ...section, nameservers: ['http://10.0.0.1:8053/', 'http://10.0.0.2:8053'] }, []), ['http://10.0.0.1:8053', 'http://10.0.0.2:8053']);
    assert.deepEqual(adminUrls(section, ['http://x:1']), ['http://x:1']);
  });
});
