import type { Logger } from '../core/log.js';
import type { Collapser } from './cache/collapse.js';
import type { CompressionRules } from './compress.js';
import type { CacheStore } from './cache/store.js';
import type { FillHead } from './fill.js';
import type { OriginClient } from './origin.js';
import type { PurgeFence } from './purge-fence.js';
import type { Identity } from './respond.js';
import type { SiteTable } from './sites.js';
import type { EdgeStats } from './stats.js';

/** Everything a request handler needs; one per edge server, no module state. */
export interface EdgeContext {
  readonly sites: SiteTable;
  readonly store: CacheStore;
  readonly origins: OriginClient;
  readonly collapser: Collapser<FillHead>;
  /** Purges against fills under way: apply a purge through it (`record`) before the store. */
  readonly fence: PurgeFence;
  readonly id: Identity;
  readonly stats: EdgeStats;
  readonly log: Logger;
  readonly now: () => number;
  readonly heuristicMax: number;
  readonly healthPath: string;
  readonly pop: string | undefined;
  /** One `access` line per response at info level (`edge.access_log`). */
  readonly accessLog: boolean;
  /** `edge.compression`, built at load. */
  readonly compression: CompressionRules;
}
