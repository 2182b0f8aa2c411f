import http from 'node:http';
import type { Duplex } from 'node:stream';
import { type ExecutionArgs, type execute, GraphQLError, parse, type subscribe } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { AppError } from '../errors.js';
import { authenticate } from './auth.js';
import type { Context } from './context.js';
import { requestErrorBody } from './error-format.js';
import { GRAPHQL_PATH, type ServerContext } from './graphql.js';
import type { OriginPolicy } from './origin-policy.js';
import { jsonOf } from './shared-results.js';
import { writeDirectly } from './shared-subscriptions.js';

/** Answers an upgrade request with a JSON error instead of the handshake, then closes the socket. */
function refuseUpgrade(socket: Duplex, error: AppError): void {
  const body = requestErrorBody(error);
  socket.on('error', () => socket.destroy());
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${error.status} ${http.STATUS_CODES[error.status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** The credential a graphql-ws client sends: `connectionParams: { authorization: "Basic …" }` (or `{ privateKey }`). */
function credentialOf(params: Record<string, unknown> | undefined, request: http.IncomingMessage): string | undefined {
  const header = params?.authorization ?? params?.Authorization;
  if (typeof header === 'string') return header;
  if (typeof params?.privateKey === 'string') return `Basic ${Buffer.from(`${params.privateKey}:`).toString('base64')}`;
  return request.headers.authorization;
}

/**
 * GraphQL over WebSocket (the graphql-ws protocol) on the same `/graphql` path, executed by the same yoga
 * instance (same schema, plugins and error masking). The connection is refused without a valid private key.
 * Browsers send cached Basic credentials with the upgrade from any page, so an upgrade from a foreign
 * `Origin` is refused with a 403 before the handshake: no socket is ever authenticated from such a request.
 */
export function attachGraphQLWs(server: http.Server, yoga: YogaServerInstance<ServerContext, Context>, privateKeys: readonly string[], origins: OriginPolicy) {
  // Upgrades are routed here rather than by ws itself, so refusals are JSON errors and ws never re-emits
  // the HTTP server's errors (a port in use) as its own.
  const wss = new WebSocketServer({ noServer: true });
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req.url ?? '/').split('?')[0] !== GRAPHQL_PATH) {
      refuseUpgrade(socket, new AppError('NOT_FOUND', `WebSocket connections are accepted only at ${GRAPHQL_PATH}.`));
      return;
    }
    const refusal = origins.refusal(req.headers);
    if (refusal) {
      refuseUpgrade(socket, refusal);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', onUpgrade);
  const disposable = useServer(
    {
      // The executor yoga enveloped for this operation travels in rootValue (see onSubscribe).
      execute: (args: ExecutionArgs) => (args.rootValue as { execute: typeof execute }).execute(args),
      subscribe: (args: ExecutionArgs) => (args.rootValue as { subscribe: typeof subscribe }).subscribe(args),
      onConnect: (ctx) => {
        const auth = authenticate(credentialOf(ctx.connectionParams, ctx.extra.request), privateKeys);
        if (!auth.ok) return false;
        (ctx.extra as unknown as { apiKey: string }).apiKey = auth.key;
        return true;
      },
      onSubscribe: async (ctx, id, params) => {
        const { schema, execute, subscribe, contextFactory, parse: yogaParse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          apiKey: (ctx.extra as unknown as { apiKey: string }).apiKey,
        });
        let document: ReturnType<typeof parse>;
        try {
          document = (yogaParse ?? parse)(params.query);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        const contextValue = await contextFactory();
        // A shared subscription's plain results, framed as graphql-ws frames a `next`.
        const socket = ctx.extra.socket;
        const framePrefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
        writeDirectly(contextValue, (result) => {
          // A backed-up socket takes its results through graphql-ws, which waits for each to be sent.
          if (socket.bufferedAmount > DIRECT_WRITE_LIMIT_BYTES) return false;
          if (socket.readyState === socket.OPEN) socket.send(`${framePrefix}${jsonOf(result)}}`);
          return true;
        });
        return {
          schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue,
          rootValue: { execute, subscribe },
        };
      },
    },
    wss,
  );
  return {
    /**
     * Takes no more connections and closes those open with 1001 "Going away" (clients reconnect elsewhere or
     * later), giving each a moment to answer the close before its socket is dropped. Resolves with how many were open.
     */
    close: async (): Promise<number> => {
      server.off('upgrade', onUpgrade);
      const open = wss.clients.size;
      // Closes every socket with 1001, then resolves once each answered the close.
      const disposed = disposable.dispose();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([disposed, new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_HANDSHAKE_MS)))]);
      clearTimeout(timer);
      for (const client of wss.clients) client.terminate();
      await disposed;
      return open;
    },
  };
}

/** Bytes a socket may have waiting to be sent and still be written to directly (a stream's default high-water mark). */
const DIRECT_WRITE_LIMIT_BYTES = 16 * 1024;

/** How long a client gets to answer the server's close frame before its socket is dropped. */
const CLOSE_HANDSHAKE_MS = 1000;
