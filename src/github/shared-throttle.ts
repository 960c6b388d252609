/**
 * One write budget across replicas (SPEC 9): with REDIS_URL, Octokit's throttle groups live in
 * Redis through Bottleneck's clustering, as Probot does with REDIS_URL, keyed per installation as
 * in one process (src/github/client.ts sets the id). The groups are built here with the plugin's own
 * ids and limits and handed to every Octokit, so the shared state does not depend on which Octokit
 * of the process happened to start the plugin's module-wide groups. Bottleneck paces through Redis
 * scripts on the Redis server's clock: no two replicas' clocks are compared.
 *
 * Only the groups that pace are shared (write, notifications, search: SPEC 9's write budget). The
 * groups that bound how many requests run at once (global, 10 per installation; auth, one token
 * request at a time) stay in each process, as without Redis. A replica that dies (kill -9, a lost
 * machine) cannot free the slots it held in Redis: Bottleneck frees a slot only when its job ends or
 * its expiry passes, and the plugin gives every job 60 s. Shared, the dead replica's requests in
 * flight held the others' concurrency for a minute; the others' writes, paced before they waited
 * there, then reached GitHub in a bunch when the slots freed. A pacing group's job is a no-op that
 * waits at most its `minTime`, so its slots expire after `PACING_SLOT_EXPIRY_MS` instead of 60 s.
 * The pace itself does not depend on the expiry (it is the `nextRequest` time Redis keeps).
 */
import Bottleneck from 'bottleneck';
import { Redis } from 'ioredis';

export interface SharedThrottle {
  /** merged into each Octokit's `throttle` options */
  readonly options: {
    Bottleneck: typeof Bottleneck;
    connection: Bottleneck.IORedisConnection;
    global: Bottleneck.Group;
    auth: Bottleneck.Group;
    search: Bottleneck.Group;
    write: Bottleneck.Group;
    notifications: Bottleneck.Group;
  };
  /** resolves once Redis answers; rejects with a clear message when it does not */
  ready(timeoutMs?: number): Promise<void>;
  /** true when Redis answers (health) */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * How long a pacing group's slot is held in Redis at most: longer than any such job's life (its wait
 * of at most `minTime`, 3 s for notifications, then a no-op), far shorter than the plugin's 60 s.
 */
export const PACING_SLOT_EXPIRY_MS = 10_000;

type Schedule = (...args: unknown[]) => Promise<unknown>;

/** Every limiter the group creates schedules its jobs with an expiry of at most `ms`. */
function expireSlotsAfter(group: Bottleneck.Group, ms: number): Bottleneck.Group {
  group.on('created', (limiter: Bottleneck) => {
    const schedule = (limiter.schedule as Schedule).bind(limiter);
    const capped: Schedule = (first, ...rest) => {
      if (typeof first === 'function') return schedule({ expiration: ms }, first, ...rest);
      const options = (first ?? {}) as Bottleneck.JobOptions;
      return schedule({ ...options, expiration: Math.min(options.expiration ?? ms, ms) }, ...rest);
    };
    (limiter as unknown as { schedule: Schedule }).schedule = capped;
  });
  return group;
}

export function createSharedThrottle(redisUrl: string, log?: { error(obj: object, msg: string): void }): SharedThrottle {
  const client = new Redis(redisUrl, { lazyConnect: false, enableOfflineQueue: true, maxRetriesPerRequest: 3 });
  const connection = new Bottleneck.IORedisConnection({ client, Redis } as Bottleneck.IORedisConnectionOptions);
  connection.on('error', (error: unknown) => log?.error({ err: error, source: 'bottleneck' }, 'Redis throttle error'));
  // idle limiters' keys expire from Redis after two minutes (the plugin's default)
  const common = { connection, timeout: 2 * 60_000 };
  const options = {
    Bottleneck,
    connection,
    // in this process: how many requests run at once is each replica's own affair
    global: new Bottleneck.Group({ id: 'octokit-global', maxConcurrent: 10 }),
    auth: new Bottleneck.Group({ id: 'octokit-auth', maxConcurrent: 1 }),
    search: expireSlotsAfter(new Bottleneck.Group({ id: 'octokit-search', maxConcurrent: 1, minTime: 2000, ...common }), PACING_SLOT_EXPIRY_MS),
    write: expireSlotsAfter(new Bottleneck.Group({ id: 'octokit-write', maxConcurrent: 1, minTime: 1000, ...common }), PACING_SLOT_EXPIRY_MS),
    notifications: expireSlotsAfter(new Bottleneck.Group({ id: 'octokit-notifications', maxConcurrent: 1, minTime: 3000, ...common }), PACING_SLOT_EXPIRY_MS),
  };
  const where = (() => {
    try {
      const u = new URL(redisUrl);
      return `${u.hostname}:${u.port || '6379'}`;
    } catch {
      return 'an unreadable REDIS_URL';
    }
  })();
  return {
    options,
    async ready(timeoutMs = 5000) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          // Bottleneck's `ready` is a promise, though its types call it a method
          (connection as unknown as { ready: Promise<unknown> }).ready.then(() => client.ping()),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`Redis at ${where} did not answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    async ping() {
      try {
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      await connection.disconnect(true);
    },
  };
}
