// Per-user write limits shared by every node through Redis (composition: main.ts calls this
// when NCHAT_REDIS_URL is set). Without Redis the services keep their in-memory limiters, which
// are exact for one node. The limiter gets its own Redis connection: the broker's publishing
// connection must never wait behind a limiter reply (or the other way round).
import { createClient } from 'redis';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { parseRedisUrl } from '../broker/redis-broker.js';
import { CREATE_WINDOW_MS } from './channels.js';
import type { Services } from './index.js';
import { RedisFixedWindowLimiter, type RedisEval } from '../lib/rate-limit.js';

/** Installs the Redis-backed send and channel-create limiters; returns how to close their connection. */
export async function shareLimitsThroughRedis(config: Config, services: Services, logger: Logger): Promise<{ close(): Promise<void> }> {
  if (!config.redisUrl || config.loadtestAllowance) return { close: async () => undefined };
  const { url, prefix } = parseRedisUrl(config.redisUrl);
  const client = createClient({ url });
  let lastError = 0;
  client.on('error', (err: unknown) => {
    // node-redis reconnects by itself; log at most every 10 s while it is down.
    if (Date.now() - lastError > 10_000) logger.warn({ err }, 'rate-limit Redis connection error (limits fall back to per node)');
    lastError = Date.now();
  });
  await client.connect();
  const redis = client as unknown as RedisEval;
  const onError = (err: unknown) => logger.warn({ err }, 'rate-limit Redis call failed (limits fall back to per node)');
  services.messages.sendLimiter = new RedisFixedWindowLimiter(
    redis,
    `${prefix}rl:send:`,
    config.sendLimit,
    config.sendLimitWindowMs,
    'too many messages',
    onError,
  );
  services.channels.createLimiter = new RedisFixedWindowLimiter(
    redis,
    `${prefix}rl:chcreate:`,
    config.channelCreateLimit,
    CREATE_WINDOW_MS,
    'too many channels created',
    onError,
  );
  return {
    close: async () => {
      await client.close().catch(() => client.destroy());
    },
  };
}
