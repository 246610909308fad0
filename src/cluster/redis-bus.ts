import { Redis, type RedisOptions } from 'ioredis';
import type { BusStatus, ClusterBus, NodeVersion, PurgeAck, SubscribeOptions, Subscription } from './bus.js';
import type { PurgeCommand } from './purge.js';
import { startReader } from './redis-reader.js';

export interface RedisBusOptions {
  url: string;
  /** Prefix of every key and channel, so clusters can share one Redis. */
  prefix?: string;
  /** Approximate stream length kept for replay (XADD MAXLEN ~). */
  maxLen?: number;
  /** How often a subscriber says it is alive; it drops out of `liveNodes` after three missed beats. */
  heartbeatMs?: number;
  now?: () => number;
  onError?: (e: unknown) => void;
  /** How long a call waits for a connection that is being made before it queues or fails. */
  connectWaitMs?: number;
  /** How long a command waits for Redis's answer: a hung Redis keeps its connections open and answers nothing. */
  commandTimeoutMs?: number;
}

/** Redis keeps reconnecting forever, soon at first and then each second: an edge outlives any Redis outage. */
const retryStrategy = (attempt: number): number => Math.min(100 * attempt, 1_000);

/**
 * The same error told once per `intervalMs` with how often it came meanwhile: while Redis is
 * down every connection fails each reconnect, which at info level buried everything else.
 */
export function throttledErrors(report: (e: unknown) => void, intervalMs = 10_000, now: () => number = Date.now): (e: unknown) => void {
  const last = new Map<string, { at: number; repeated: number }>();
  return (e) => {
    const text = e instanceof Error ? e.message : String(e);
    const seen = last.get(text);
    const t = now();
    if (seen && t - seen.at < intervalMs) {
      seen.repeated++;
      return;
    }
    if (last.size > 100) last.clear();
    last.set(text, { at: t, repeated: 0 });
    report(seen && seen.repeated > 0 ? Object.assign(new Error(`${text} (and ${seen.repeated} times more in ${Math.round((t - seen.at) / 1000)} s)`), { cause: e }) : e);
  };
}

/** The bus for many nodes: a Redis Stream of purges, pub/sub for acks, hashes for liveness and versions. */
export function createRedisBus(options: RedisBusOptions): ClusterBus {
  const prefix = options.prefix ?? 'geocdn';
  const streamKey = `${prefix}:purges`;
  const liveKey = `${prefix}:live`;
  const versionsKey = `${prefix}:versions`;
  const ackChannel = `${prefix}:acks`;
  const maxLen = options.maxLen ?? 100_000;
  const heartbeatMs = options.heartbeatMs ?? 1_000;
  const now = options.now ?? Date.now;
  const onError = throttledErrors(options.onError ?? (() => undefined));
  const connectWaitMs = options.connectWaitMs ?? 1_000;
  const commandTimeoutMs = options.commandTimeoutMs ?? 1_000;

  // Commands fail at once while Redis is down, and after commandTimeoutMs while it hangs; the bus queues what must not be lost.
  const cmd = new Redis(options.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy, lazyConnect: false, commandTimeout: commandTimeoutMs });
  cmd.on('error', onError);
  const connections = new Set<Redis>([cmd]);
  const queue: string[] = [];
  const pendingVersions = new Map<string, string>();
  /** Every version this process published: written again on each reconnect, so a Redis restarted empty learns them back. */
  const publishedVersions = new Map<string, string>();
  let flushing: Promise<void> | undefined;
  /** The connection is up but its last command went unanswered (a hung Redis): not connected for status. */
  let answering = true;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;

  /**
   * A hung Redis keeps the connection 'ready', so no reconnect will flush the queue: try again
   * after a PING answers. (A timed-out XADD may still run when Redis wakes: edges skip a purge id twice.)
   */
  function retryLater(): void {
    if (retry || closed) return;
    retry = setTimeout(() => {
      retry = undefined;
      cmd.ping().then(
        () => {
          answering = true;
          return flush();
        },
        () => retryLater(),
      );
    }, 250);
    retry.unref();
  }
  function failed(e: unknown): void {
    answering = false;
    onError(e);
    retryLater();
  }

  async function flushOnce(): Promise<void> {
    while (queue.length > 0 && cmd.status === 'ready') {
      try {
        await cmd.xadd(streamKey, 'MAXLEN', '~', maxLen, '*', 'p', queue[0]!);
        queue.shift();
        answering = true;
      } catch (e) {
        return failed(e);
      }
    }
    for (const [node, json] of [...pendingVersions]) {
      if (cmd.status !== 'ready') return;
      try {
        await cmd.hset(versionsKey, node, json);
        if (pendingVersions.get(node) === json) pendingVersions.delete(node);
      } catch (e) {
        return failed(e);
      }
    }
  }
  function flush(): Promise<void> {
    flushing ??= flushOnce().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }
  let everReady = false;
  cmd.on('ready', () => {
    if (everReady) for (const [node, json] of publishedVersions) if (!pendingVersions.has(node)) pendingVersions.set(node, json);
    everReady = true;
    answering = true;
    void flush();
  });

  /** Waits for the first connection; later outages fail fast instead (callers queue or report). */
  async function connected(timeoutMs: number): Promise<void> {
    if (cmd.status === 'ready' || everReady) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      cmd.once('ready', done);
      function done(): void {
        clearTimeout(timer);
        cmd.off('ready', done);
        resolve();
      }
    });
  }

  function connect(): Redis {
    const c = new Redis(options.url, { maxRetriesPerRequest: null, retryStrategy } satisfies RedisOptions);
    c.on('error', onError);
    connections.add(c);
    return c;
  }

  // One pub/sub connection per bus, shared by every waiting purge: a connection per purge costs a handshake each.
  const ackListeners = new Set<(a: PurgeAck) => void>();
  let ackSub: Promise<Redis> | undefined;
  async function subscribeAcks(): Promise<Redis> {
    const sub = connect();
    sub.on('message', (channel: string, message: string) => {
      if (channel !== ackChannel) return;
      let a: PurgeAck;
      try {
        a = JSON.parse(message) as PurgeAck;
      } catch {
        return;
      }
      if (typeof a.purgeId === 'string' && typeof a.node === 'string') for (const l of ackListeners) l(a);
    });
    await sub.subscribe(ackChannel);
    return sub;
  }

  const beat = async (node: string): Promise<void> => {
    if (cmd.status !== 'ready') return;
    await cmd.hset(liveKey, node, String(now())).catch(onError);
  };

  return {
    async publishPurge(purge: PurgeCommand) {
      queue.push(JSON.stringify(purge));
      await connected(connectWaitMs);
      await flush();
    },

    async subscribe(o: SubscribeOptions): Promise<Subscription> {
      const conn = connect();
      const reader = startReader(conn, streamKey, o, onError);
      // Redis down at start: the reader resumes from the saved cursor once it is back, and the
      // edge must not wait for that (its admin API and reloads come after this).
      await settledWithin(reader.started, connectWaitMs);
      await connected(connectWaitMs);
      await beat(o.node);
      const timer = setInterval(() => void beat(o.node), heartbeatMs);
      timer.unref();
      return {
        node: o.node,
        async stop() {
          clearInterval(timer);
          await reader.stop();
          connections.delete(conn);
          if (cmd.status === 'ready') await cmd.hdel(liveKey, o.node).catch(onError);
        },
      };
    },

    async ack(a: PurgeAck) {
      // Best effort: an ack lost to an outage makes the issuer name this edge as not confirmed.
      await connected(connectWaitMs);
      if (cmd.status === 'ready') await cmd.publish(ackChannel, JSON.stringify(a)).catch(onError);
    },

    async onAck(listener) {
      ackListeners.add(listener);
      const sub = (ackSub ??= subscribeAcks());
      if (everReady && cmd.status !== 'ready') {
        // Redis is down: no ack can come, and the subscription completes only when it returns. Do not wait for it.
        sub.catch(onError);
        return () => ackListeners.delete(listener);
      }
      // A hung Redis accepts the connection and answers nothing: wait no longer than for a first connection.
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([sub, new Promise<void>((r) => (timer = setTimeout(r, connectWaitMs)))]);
      } catch (e) {
        ackListeners.delete(listener);
        throw e;
      } finally {
        clearTimeout(timer);
      }
      sub.catch(onError);
      return () => ackListeners.delete(listener);
    },

    async liveNodes() {
      await connected(connectWaitMs);
      const beats = await cmd.hgetall(liveKey);
      const since = now() - 3 * heartbeatMs;
      return Object.entries(beats)
        .filter(([, at]) => Number(at) >= since)
        .map(([node]) => node)
        .sort();
    },

    async publishVersion(node, version, role) {
      const json = JSON.stringify({ version, at: now(), ...(role ? { role } : {}) } satisfies NodeVersion);
      pendingVersions.set(node, json);
      publishedVersions.set(node, json);
      await connected(connectWaitMs);
      await flush();
    },

    async versions() {
      await connected(connectWaitMs);
      const all = await cmd.hgetall(versionsKey);
      const out: Record<string, NodeVersion> = {};
      for (const [node, json] of Object.entries(all)) {
        try {
          out[node] = JSON.parse(json) as NodeVersion;
        } catch {
          // a malformed entry is skipped, not fatal
        }
      }
      return out;
    },

    status(): BusStatus {
      return { kind: 'redis', connected: cmd.status === 'ready' && answering, queued: queue.length };
    },

    async close() {
      closed = true;
      clearTimeout(retry);
      ackListeners.clear();
      for (const c of connections) c.disconnect();
      connections.clear();
    },
  };
}

/** Waits for `p`, or `ms` at most (a timer that keeps no process alive). */
function settledWithin(p: Promise<void>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    void p.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
