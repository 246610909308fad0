import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import { systemClock } from '../src/health/clock.js';
import { shedShare } from '../src/health/load.js';
import { HealthMonitor, type MonitorSettings } from '../src/health/monitor.js';
import { probeEdge } from '../src/health/probe.js';
import { initialTrack, observe, type Track } from '../src/health/state.js';
import { FakeClock } from './helpers/health-clock.js';
import { FakeEdge, HEALTH_PATH, startEdges } from './helpers/health-edges.js';

const near = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} ≉ ${expected}`);
const settings: MonitorSettings = { intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 3, tcp: false, path: HEALTH_PATH, spillover: true, maxSpillover: 0.9 };

describe('rise/fall state machine', () => {
  const t = { rise: 2, fall: 3 };
  const run = (results: boolean[]): Track[] => {
    const out: Track[] = [];
    let track = initialTrack(0);
    results.forEach((ok, i) => out.push((track = observe(track, ok, ok ? 'http 200' : 'connect ECONNREFUSED', (i + 1) * 1000, t))));
    return out;
  };

  test('the first probe decides at once; later ones need fall failures in a row', () => {
    const s = run([false]);
    assert.equal(s[0]!.health.kind, 'down');
    assert.equal(s[0]!.health.since, 1000);
    const u = run([true, false, false, true, false, false, false]);
    assert.deepEqual(u.map((x) => x.health.kind), ['up', 'up', 'up', 'up', 'up', 'up', 'down']);
    assert.equal(u[6]!.health.since, 7000);
    assert.match(u[6]!.health.reason, /ECONNREFUSED \(3 failed probes in a row\)/);
  });

  test('a down POP comes back after rise good probes in a row', () => {
    const s = run([false, true, false, true, true]);
    assert.deepEqual(s.map((x) => x.health.kind), ['down', 'down', 'down', 'down', 'up']);
    assert.match(s[4]!.health.reason, /2 good probes/);
  });

  test('probes that agree keep the state and its since', () => {
    const s = run([true, true, true]);
    assert.equal(s[2]!.health.since, 0);
    assert.equal(s[2], s[1]);
  });
});

describe('load: the shed share', () => {
  test('no capacity or below it: nothing shed', () => {
    assert.equal(shedShare(500, undefined, 0, 0.9), 0);
    assert.equal(shedShare(80, 100, 0, 0.9), 0);
  });

  test('proportional to the overload, capped', () => {
    assert.equal(shedShare(200, 100, 0, 0.9), 0.5);
    near(shedShare(150, 100, 0, 0.9), 1 / 3);
    assert.equal(shedShare(10_000, 100, 0, 0.9), 0.9);
  });

  test('settles: an edge that sees only the kept share keeps the same share shed', () => {
    const offered = 400;
    let shed = 0;
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      shed = shedShare(offered * (1 - shed), 100, shed, 0.9);
      seen.push(shed);
    }
    for (const x of seen) near(x, 0.75);
    // The offered load falls: the shed share follows it down to nothing.
    assert.equal(shedShare(90 * (1 - 0.75), 100, 0.75, 0.9), 0);
  });
});

describe('probes of real edges', () => {
  const edges: FakeEdge[] = [];
  after(() => Promise.all(edges.map((e) => e.stop())));

  test('an edge answering the health path is up, with its load', async () => {
    const [e] = await startEdges(1);
    edges.push(e!);
    e!.requestsPerSecond = 42;
    const r = await probeEdge({ edge: e!.url, path: HEALTH_PATH, timeoutMs: 1000, tcp: true }, systemClock);
    assert.equal(r.ok, true);
    assert.equal(r.reason, 'http 200');
    assert.equal(r.load?.requestsPerSecond, 42);
    assert.deepEqual(r.load?.origins, [{ origin: 'http://127.0.0.1:9', state: 'up' }]);
  });

  test('refused, 5xx, "status" other than ok, and silence are failures', async () => {
    const e = await new FakeEdge().start();
    edges.push(e);
    const target = { edge: e.url, path: HEALTH_PATH, timeoutMs: 150, tcp: false };
    e.httpStatus = 503;
    assert.deepEqual(await probeEdge(target, systemClock), { ok: false, reason: 'http 503', load: undefined });
    e.httpStatus = 200;
    e.status = 'overloaded';
    assert.equal((await probeEdge(target, systemClock)).reason, 'edge says overloaded');
    e.hang = true;
    const t0 = Date.now();
    assert.equal((await probeEdge(target, systemClock)).reason, 'timeout after 150 ms');
    assert.ok(Date.now() - t0 < 1000);
    await e.stop();
    const refused = await probeEdge({ ...target, tcp: true }, systemClock);
    assert.deepEqual([refused.ok, refused.reason], [false, 'tcp connect ECONNREFUSED']);
    assert.equal((await probeEdge(target, systemClock)).reason, 'connect ECONNREFUSED');
  });
});

describe('the monitor: schedule, rise/fall, drain (fake clock, real edges)', () => {
  let monitor: HealthMonitor | undefined;
  const edges: FakeEdge[] = [];
  afterEach(() => monitor?.stop());
  after(() => Promise.all(edges.map((e) => e.stop())));

  /** One interval of fake time, then the probes it started. */
  const tick = (m: HealthMonitor, clock: FakeClock, ms = settings.intervalMs) => clock.step(ms, () => m.idle());

  test('probes start when configured, not on first use; a stopped edge is down after fall probes, back after rise', async () => {
    const [a, b] = await startEdges(2);
    edges.push(a!, b!);
    const clock = new FakeClock();
    monitor = new HealthMonitor({ clock });
    monitor.configure(
      [
        { name: 'a', edge: a!.url, capacity: undefined },
        { name: 'b', edge: b!.url, capacity: undefined },
        { name: 'c', edge: undefined, capacity: undefined },
      ],
      settings,
    );
    await tick(monitor, clock, 0);
    assert.equal(a!.probes, 1);
    assert.deepEqual([0, 1, 2].map((i) => monitor!.isAvailable(i)), [true, true, true]);
    assert.equal(monitor.calm, true);
    assert.equal(monitor.stateOf(2).reason, 'no edge to probe');

    await a!.stop();
    await tick(monitor, clock);
    await tick(monitor, clock);
    assert.equal(monitor.isAvailable(0), true, 'two failures of three: still up');
    await tick(monitor, clock);
    assert.equal(monitor.isAvailable(0), false, 'down within interval × fall');
    const down = monitor.stateOf(0);
    assert.equal(down.kind, 'down');
    assert.equal(down.since, clock.now());
    assert.match(down.reason, /ECONNREFUSED \(3 failed probes in a row\)/);
    assert.equal(monitor.calm, false);

    await a!.start();
    await tick(monitor, clock);
    assert.equal(monitor.isAvailable(0), false, 'one good probe of two');
    await tick(monitor, clock);
    assert.equal(monitor.isAvailable(0), true, 'back after rise');
    assert.equal(monitor.calm, true);
  });

  test('drain and undrain: by name, with when and why, kept across a reconfigure', async () => {
    const [a] = await startEdges(1);
    edges.push(a!);
    const clock = new FakeClock();
    monitor = new HealthMonitor({ clock });
    const pops = [{ name: 'a', edge: a!.url, capacity: undefined }];
    monitor.configure(pops, settings);
    await tick(monitor, clock, 0);
    const v = monitor.version;
    const s = monitor.drain('a', 'kernel upgrade');
    assert.equal(s?.kind, 'draining');
    assert.ok(s?.kind === 'draining' && s.health.kind === 'up' && s.reason === 'kernel upgrade' && s.since === clock.now());
    assert.equal(monitor.isAvailable(0), false);
    assert.ok(monitor.version > v);
    assert.equal(monitor.drain('nope'), undefined);
    monitor.configure([{ name: 'z', edge: undefined, capacity: undefined }, ...pops], settings);
    assert.equal(monitor.stateOf(1).kind, 'draining');
    assert.equal(monitor.undrain('a')?.kind, 'up');
    assert.equal(monitor.isAvailable(1), true);
  });

  test('load above capacity sets a shed share; the POP stays available', async () => {
    const [a] = await startEdges(1);
    edges.push(a!);
    a!.requestsPerSecond = 300;
    const clock = new FakeClock();
    monitor = new HealthMonitor({ clock });
    monitor.configure([{ name: 'a', edge: a!.url, capacity: 100 }], settings);
    await tick(monitor, clock, 0);
    assert.equal(monitor.isAvailable(0), true);
    near(monitor.shedOf(0), 2 / 3);
    assert.equal(monitor.calm, false);
    assert.equal(monitor.statuses()[0]!.load?.requestsPerSecond, 300);
    monitor.configure([{ name: 'a', edge: a!.url, capacity: 100 }], { ...settings, spillover: false });
    assert.equal(monitor.shedOf(0), 0);
  });
});
