import type http from 'node:http';
import { type ExecutionArgs, type execute, parse, type subscribe } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { authenticate } from './auth.js';
import type { Context } from './context.js';
import { GRAPHQL_PATH, type ServerContext } from './graphql.js';

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
 */
export function attachGraphQLWs(server: http.Server, yoga: YogaServerInstance<ServerContext, Context>, privateKeys: readonly string[]) {
  const wss = new WebSocketServer({ server, path: GRAPHQL_PATH });
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
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse: yogaParse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          apiKey: (ctx.extra as unknown as { apiKey: string }).apiKey,
        });
        const document = (yogaParse ?? parse)(params.query);
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        return {
          schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
    },
    wss,
  );
  return {
    close: async () => {
      await disposable.dispose();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
