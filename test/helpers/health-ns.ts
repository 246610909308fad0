import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Nameserver } from '../../src/dns/nameserver.js';
import { geoZone } from '../fixtures/test-zone.js';
import { FakeClock } from './health-clock.js';
import { tempDir } from './tmp.js';
import { discardingLogger } from './log.js';

/** The test zone without its static `cdn` record (it is geo-routed here). */
export const healthZone = geoZone;

export interface HealthNameserver {
  ns: Nameserver;
  port: number;
  clock: FakeClock;
  /** One step of fake time, then the probes it started. */
  tick(ms: number): Promise<void>;
  stop(): Promise<void>;
}

/** A nameserver over `configYaml` (zone file `example.test.zone` beside it) whose health checks run on a fake clock. */
export async function startHealthNameserver(configYaml: string): Promise<HealthNameserver> {
  const dir = tempDir('geocdn-health-');
  writeFileSync(join(dir, 'example.test.zone'), healthZone);
  writeFileSync(join(dir, 'geocdn.yaml'), configYaml);
  const clock = new FakeClock();
  const ns = await Nameserver.start(join(dir, 'geocdn.yaml'), discardingLogger('test'), undefined, ['127.0.0.1:0'], { clock });
  const tick = (ms: number) => clock.step(ms, () => ns.health.idle());
  await tick(0);
  return { ns, port: ns.server.bound.udp[0]!.port, clock, tick, stop: () => ns.stop() };
}
