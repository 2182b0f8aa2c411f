import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub } from 'graphql-yoga';
import { Redis } from 'ioredis';
import { messageOf, NOT_A_URL, oneLineReason, serverAddress } from '../logging/connection-errors.js';
import type { Logger } from '../logger.js';
import type { EventBus, Topics } from './pubsub.js';

/** How long the start waits for Redis to answer before it gives up (a firewalled host never refuses). */
const CONNECT_TIMEOUT_MS = 10_000;

/** After the start, the wait before each reconnection attempt: 100 ms more per attempt, at most 2 s. */
const reconnectDelay = (attempt: number) => Math.min(attempt * 100, 2000);

/** Why the Redis event bus could not be opened, in one line that names the server but never its password. */
export class RedisStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisStartError';
  }
}

export interface RedisEventBusOptions {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://…` (TLS). */
  url: string;
  /**
   * What every channel name starts with. Redis pub/sub ignores the database number (a message reaches the
   * subscribers of every database), so instances that must not hear each other need different prefixes.
   */
  channelPrefix: string;
  log: Logger;
  connectTimeoutMs?: number;
}

/** The bus over Redis, and what ends its two connections. */
export interface RedisEventBus {
  bus: EventBus;
  /** Quits both connections (or drops them when Redis is unreachable). Later events are dropped silently. */
  close(): Promise<void>;
}

/**
 * An {@link EventBus} over Redis pub/sub, so a subscriber on one instance hears what any other instance publishes.
 * Two connections: one publishes, the other is in subscriber mode (where Redis allows no other command).
 * Payloads cross as JSON, which the topics' events are made of (dates as ISO strings, no `undefined` that matters).
 *
 * The start fails when Redis cannot be reached. Later, an outage never ends the process: it is logged once, events
 * published meanwhile are dropped (live events are best effort; webhooks go through the durable outbox), new
 * subscriptions wait for the connection, and existing ones are renewed on reconnection.
 * @throws RedisStartError "Cannot reach Redis at redis://host:6379/0: <reason>"
 */
export async function openRedisEventBus(options: RedisEventBusOptions): Promise<RedisEventBus> {
  const server = describeRedisServer(options.url);
  const state = { started: false, closed: false };
  const connection = (role: 'publish' | 'subscribe') =>
    watchedConnection(options.url, role, {
      server,
      log: options.log,
      state,
      connectTimeout: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    });
  const publisher = connection('publish');
  const subscriber = connection('subscribe');
  try {
    await Promise.all([publisher.ready(), subscriber.ready()]);
  } catch (error) {
    state.closed = true;
    publisher.client.disconnect();
    subscriber.client.disconnect();
    throw new RedisStartError(`Cannot reach Redis at ${server}: ${reasonOf(error, options.url)}`);
  }
  state.started = true;
  const eventTarget = createRedisEventTarget({
    publishClient: channelClient(publisher, options.channelPrefix, state),
    subscribeClient: channelClient(subscriber, options.channelPrefix, state),
  });
  return {
    bus: createPubSub<Topics>({ eventTarget: eventTarget as never }),
    close: async () => {
      state.closed = true;
      await Promise.all([publisher, subscriber].map(({ client }) => quit(client)));
    },
  };
}

interface ConnectionContext {
  server: string;
  log: Logger;
  state: { started: boolean; closed: boolean };
  connectTimeout: number;
}

/** An ioredis connection whose troubles are logged (once per outage), never thrown at the process. */
interface WatchedConnection {
  client: Redis;
  /** Connects, selects the database and answers a PING; rejects with the first error seen on the way. */
  ready(): Promise<void>;
  /** Logs a failed command, once until the connection is ready again (no line per event during an outage). */
  failed(error: unknown): void;
}

function watchedConnection(url: string, role: 'publish' | 'subscribe', context: ConnectionContext): WatchedConnection {
  const { server, log, state } = context;
  const client = new Redis(url, {
    lazyConnect: true,
    // Named in Redis's CLIENT LIST, so an operator can tell Stowage's connections apart.
    connectionName: `stowage-${role}`,
    connectTimeout: context.connectTimeout,
    // No retries during the start (it fails at once); after it, reconnect for as long as it takes.
    retryStrategy: (attempt) => (state.started && !state.closed ? reconnectDelay(attempt) : null),
    // Publishing fails fast while disconnected (the event is dropped) instead of queueing events in memory;
    // subscribing waits for the connection, so a subscription started during an outage works once Redis is back.
    enableOfflineQueue: role === 'subscribe',
    maxRetriesPerRequest: role === 'subscribe' ? null : 0,
  });
  let startError: unknown;
  let troubled = false;
  const trouble = (error: unknown, what: string) => {
    if (state.closed || troubled) return;
    troubled = true;
    const reason = error instanceof Error ? `: ${error.message}` : '';
    log.warn({ ...(error ? { err: error } : {}), redis: server, role }, `Redis at ${server} (${role} connection): ${what}${reason}; live events between instances are lost until it is back`);
  };
  client.on('error', (error: Error) => {
    if (!state.started) startError ??= error;
    else trouble(error, 'unreachable');
  });
  // A connection closed by the server or the network (no error event then): ioredis is about to reconnect.
  client.on('reconnecting', () => trouble(undefined, 'connection lost, reconnecting'));
  client.on('ready', () => {
    if (!troubled || state.closed) return;
    troubled = false;
    log.info({ redis: server, role }, `Redis at ${server} (${role} connection): reachable again, live events cross instances again`);
  });
  return {
    client,
    ready: async () => {
      try {
        await client.connect();
        await client.ping();
      } catch (error) {
        throw startError ?? error;
      }
      // Errors that do not close the connection, such as a database number the server does not have.
      if (startError) throw startError;
    },
    failed: (error) => trouble(error, 'a command failed'),
  };
}

/**
 * What `createRedisEventTarget` (3.0.4) calls on a client: `publish`, `subscribe`, `unsubscribe` and
 * `on('message')`. Every channel is put under `prefix` (and only messages under it are passed on, without it),
 * and a failed command is logged: the event target drops the promises these return, and an unhandled rejection
 * would end the process.
 */
function channelClient(connection: WatchedConnection, prefix: string, state: { closed: boolean }): Redis {
  const { client } = connection;
  const guard = (command: () => Promise<unknown>) => {
    if (state.closed) return;
    command().catch((error: unknown) => connection.failed(error));
  };
  const commands = {
    publish: (channel: string, message: string) => guard(() => client.publish(prefix + channel, message)),
    subscribe: (channel: string) => guard(() => client.subscribe(prefix + channel)),
    unsubscribe: (channel: string) => guard(() => client.unsubscribe(prefix + channel)),
    on: (event: 'message', listener: (channel: string, message: string) => void) => {
      client.on(event, (channel: string, message: string) => {
        if (channel.startsWith(prefix)) listener(channel.slice(prefix.length), message);
      });
    },
  };
  return commands as unknown as Redis;
}

/** Ends a connection: politely when it is up, at once when it is not (a QUIT would wait for the reconnection). */
async function quit(client: Redis): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  await client.quit().catch(() => client.disconnect());
}

/** `redis://user@host:6379/0`: the server a URL names, without its password. */
export function describeRedisServer(url: string): string {
  try {
    return `${serverAddress(url, '6379')}/${redisDatabaseOf(url)}`;
  } catch {
    return NOT_A_URL;
  }
}

/** The database number a Redis URL selects (its path), 0 when it names none. */
function redisDatabaseOf(url: string): number {
  const path = new URL(url).pathname.replace(/^\//, '');
  return path === '' ? 0 : Number(path);
}

/** The error's message on one line, with the URL's password (should a message ever repeat it) removed. */
const reasonOf = (error: unknown, url: string): string => oneLineReason([messageOf(error)], url);
