/**
 * One write budget across replicas (SPEC 9): with REDIS_URL, Octokit's throttle groups live in
 * Redis through Bottleneck's clustering, as Probot does with REDIS_URL, keyed per installation as
 * in one process (src/github/client.ts sets the id). The groups are built here with the plugin's own
 * ids and limits and handed to every Octokit, so the shared state does not depend on which Octokit
 * of the process happened to start the plugin's module-wide groups. Bottleneck paces through Redis
 * scripts on the Redis server's clock: no two replicas' clocks are compared.
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

export function createSharedThrottle(redisUrl: string, log?: { error(obj: object, msg: string): void }): SharedThrottle {
  const client = new Redis(redisUrl, { lazyConnect: false, enableOfflineQueue: true, maxRetriesPerRequest: 3 });
  const connection = new Bottleneck.IORedisConnection({ client, Redis } as Bottleneck.IORedisConnectionOptions);
  connection.on('error', (error: unknown) => log?.error({ err: error, source: 'bottleneck' }, 'Redis throttle error'));
  // idle limiters' keys expire from Redis after two minutes (the plugin's default)
  const common = { connection, timeout: 2 * 60_000 };
  const options = {
    Bottleneck,
    connection,
    global: new Bottleneck.Group({ id: 'octokit-global', maxConcurrent: 10, ...common }),
    auth: new Bottleneck.Group({ id: 'octokit-auth', maxConcurrent: 1, ...common }),
    search: new Bottleneck.Group({ id: 'octokit-search', maxConcurrent: 1, minTime: 2000, ...common }),
    write: new Bottleneck.Group({ id: 'octokit-write', maxConcurrent: 1, minTime: 1000, ...common }),
    notifications: new Bottleneck.Group({ id: 'octokit-notifications', maxConcurrent: 1, minTime: 3000, ...common }),
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
