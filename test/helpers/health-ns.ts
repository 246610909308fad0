import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../src/core/log.js';
import { Nameserver } from '../../src/dns/nameserver.js';
import { geoZone } from '../fixtures/test-zone.js';
import { FakeClock } from './health-clock.js';
import { tempDir } from './tmp.js';
import { discardingLogger } from './log.js';
import { withOwnStateDir } from './state-dir.js';

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

/**
 * A nameserver over `configYaml` (zone file `example.test.zone` beside it) whose health checks run on a fake clock.
 * `dir`: the folder to run in (a restart passes the last one's), default a new one.
 */
export async function startHealthNameserver(configYaml: string, options: { dir?: string; logger?: Logger } = {}): Promise<HealthNameserver> {
  const dir = options.dir ?? tempDir('geocdn-health-');
  writeFileSync(join(dir, 'example.test.zone'), healthZone);
  writeFileSync(join(dir, 'geocdn.yaml'), withOwnStateDir(configYaml, dir));
  const clock = new FakeClock();
  const ns = await Nameserver.start(join(dir, 'geocdn.yaml'), options.logger ?? discardingLogger('test'), undefined, ['127.0.0.1:0'], { clock });
  const tick = (ms: number) => clock.step(ms, () => ns.health.idle());
  await tick(0);
  return { ns, port: ns.server.bound.udp[0]!.port, clock, tick, stop: () => ns.stop() };
}
