// Rate limits shared by every node through Redis (composition: main.ts calls this when
// NCHAT_REDIS_URL is set): send, search, channel-create and upload per user, and the sign-in /
// sign-up limits per ip, account and (account, ip) with the known-good ips. Without Redis the
// services keep their in-memory limiters, which are exact for one node and count per node with
// several. Every Redis limiter falls back to its in-memory twin (per node, logged) while Redis
// is unreachable. Socket-frame limits are not shared: they are a token bucket per connection by
// design. The limiters get their own Redis connection: the broker's publishing connection must
// never wait behind a limiter reply (or the other way round).
import { createClient } from 'redis';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { parseRedisUrl } from '../broker/redis-broker.js';
import { CREATE_WINDOW_MS } from './channels.js';
import type { Services } from './index.js';
import { FixedWindowLimiter, RedisFixedWindowLimiter, RedisSlidingWindowLimiter, type RedisEval } from '../lib/rate-limit.js';
import { RedisKnownIps, SigninGuard } from './signin-guard.js';

/** Installs the Redis-backed limiters; returns how to close their connection. */
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
  services.search.limiter = new RedisFixedWindowLimiter(
    redis,
    `${prefix}rl:search:`,
    config.searchLimit,
    config.searchLimitWindowMs,
    'too many searches',
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
  // Uploads: the same limit and window as the per-node limiter the file service made (a
  // FixedWindowLimiter unless the load-test allowance lifted it, which skipped this function).
  const upload = services.files.uploadLimiter;
  if (upload instanceof FixedWindowLimiter) {
    services.files.uploadLimiter = new RedisFixedWindowLimiter(
      redis,
      `${prefix}rl:upload:`,
      upload.limit,
      upload.windowMs,
      upload.what,
      onError,
    );
  }
  // Sign-in and sign-up: the same limits, every counter and the known-good ips in Redis. Keys
  // are the ones the guard passes (ipKey() of the address, the resolved account id).
  services.auth.guard = new SigninGuard(services.auth.guard.limits, {
    backend: {
      window: (name, limit, windowMs) => new RedisSlidingWindowLimiter(redis, `${prefix}rl:signin:${name}:`, limit, windowMs, onError),
      knownIps: new RedisKnownIps(redis, `${prefix}rl:signin:known:`, onError),
    },
  });
  return {
    close: async () => {
      await client.close().catch(() => client.destroy());
    },
  };
}
