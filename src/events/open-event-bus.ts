import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createEventBus, type EventBus } from './pubsub.js';
import { openRedisEventBus } from './redis-event-bus.js';

/** The live event bus the app publishes to, and what closes the connections it opened (nothing in process). */
export interface OpenedEventBus {
  bus: EventBus;
  close(): Promise<void>;
}

/**
 * The bus `config` selects: Redis pub/sub when `STOWAGE_REDIS_URL` is set, so subscribers on any instance hear
 * every instance; otherwise the in-process bus, which only this process hears.
 * @throws RedisStartError when Redis is configured but cannot be reached
 */
export async function openEventBus(config: Pick<Config, 'redis'>, log: Logger): Promise<OpenedEventBus> {
  if (!config.redis) return { bus: createEventBus(), close: async () => {} };
  return openRedisEventBus({ url: config.redis.url, channelPrefix: config.redis.channelPrefix, log });
}
