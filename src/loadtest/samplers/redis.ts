// Redis collector: INFO every sample (ops, hits/misses, memory, evictions, clients, pub/sub).
// Counters are turned into per-second deltas; gauges are kept as read.
import { createClient } from 'redis';

export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export interface RedisSample {
  opsPerSec: number;
  commandsPerSec: number;
  hitsPerSec: number;
  missesPerSec: number;
  hitRate: number | null;
  usedMemoryBytes: number;
  evictedKeys: number;
  expiredKeys: number;
  connectedClients: number;
  pubsubChannels: number;
  pubsubPatterns: number;
  netInBytesPerSec: number;
  netOutBytesPerSec: number;
}

export class RedisSampler {
  private client;
  private prev: Record<string, string> | null = null;
  private prevAt = 0;
  private first: Record<string, string> | null = null;
  info: Record<string, unknown> = {};

  constructor(readonly url: string) {
    this.client = createClient({ url, socket: { reconnectStrategy: false } });
    this.client.on('error', () => undefined);
  }

  async start(): Promise<void> {
    await this.client.connect();
    const i = parseInfo(await this.client.info());
    this.info = { version: i.redis_version, maxmemory: Number(i.maxmemory ?? 0), maxmemoryPolicy: i.maxmemory_policy };
    this.prev = i;
    this.first = i;
    this.prevAt = performance.now();
  }

  async sample(): Promise<RedisSample | null> {
    const cur = parseInfo(await this.client.info());
    const now = performance.now();
    const prev = this.prev;
    const dt = (now - this.prevAt) / 1000;
    this.prev = cur;
    this.prevAt = now;
    if (!prev || dt <= 0) return null;
    const d = (k: string) => (Number(cur[k] ?? 0) - Number(prev[k] ?? 0)) / dt;
    const hits = d('keyspace_hits');
    const misses = d('keyspace_misses');
    return {
      opsPerSec: Number(cur.instantaneous_ops_per_sec ?? 0),
      commandsPerSec: d('total_commands_processed'),
      hitsPerSec: hits,
      missesPerSec: misses,
      hitRate: hits + misses > 0 ? hits / (hits + misses) : null,
      usedMemoryBytes: Number(cur.used_memory ?? 0),
      evictedKeys: Number(cur.evicted_keys ?? 0),
      expiredKeys: Number(cur.expired_keys ?? 0),
      connectedClients: Number(cur.connected_clients ?? 0),
      pubsubChannels: Number(cur.pubsub_channels ?? 0),
      pubsubPatterns: Number(cur.pubsub_patterns ?? 0),
      netInBytesPerSec: d('total_net_input_bytes'),
      netOutBytesPerSec: d('total_net_output_bytes'),
    };
  }

  async finish(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = { ...this.info };
    try {
      const end = parseInfo(await this.client.info());
      if (this.first) {
        const d = (k: string) => Number(end[k] ?? 0) - Number(this.first![k] ?? 0);
        const hits = d('keyspace_hits');
        const misses = d('keyspace_misses');
        out.run = {
          commands: d('total_commands_processed'),
          hits,
          misses,
          hitRate: hits + misses > 0 ? hits / (hits + misses) : null,
          evictedKeys: d('evicted_keys'),
          expiredKeys: d('expired_keys'),
        };
      }
    } catch (e) {
      out.error = (e as Error).message;
    }
    await this.client.quit().catch(() => undefined);
    return out;
  }
}
