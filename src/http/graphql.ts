import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import { createYoga, type GraphQLParams, type Plugin } from 'graphql-yoga';
import { isAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { schema } from '../schema/index.js';
import type { Context, Services } from './context.js';
import { errorExtensions } from './error-format.js';
import { renderGraphiQLPage } from './graphiql-page.js';
import { useJsonBodyLimit } from './limit-json-body.js';
import { useQueryLimits } from './query-limits.js';

export interface ServerContext {
  req: IncomingMessage;
  res: ServerResponse;
  apiKey: string;
}

export const GRAPHQL_PATH = '/graphql';

const EXAMPLE_QUERY = `# Stowage: ImageKit's upload API over GraphQL.
# Every operation needs your private key (HTTP Basic: the key as user name, empty password).
# Run an operation and the browser asks for it once; or set {"Authorization": "Basic <base64 of 'key:'>"} in Headers.
mutation UploadFromUrl {
  uploadFile(file: "https://example.com/picture.jpg", fileName: "picture.jpg", folder: "/samples") {
    fileId
    name
    filePath
    url
    thumbnailUrl
    fileType
    width
    height
    versionInfo { id name }
  }
}
`;

/**
 * Turns resolver failures into the response: AppErrors keep their message and get `extensions` with
 * code, status and parameter; GraphQL's own errors pass unchanged; anything else is logged and masked.
 */
function createMaskError(log: Logger) {
  return (error: unknown, message: string): Error => {
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    const located = error instanceof GraphQLError ? error : undefined;
    if (isAppError(original)) {
      return new GraphQLError(original.message, { nodes: located?.nodes, path: located?.path, extensions: errorExtensions(original) });
    }
    if (original instanceof GraphQLError) {
      if (original === error) return error as GraphQLError;
      return new GraphQLError(original.message, { nodes: located?.nodes, path: located?.path, extensions: original.extensions });
    }
    log.error({ err: original }, 'Unexpected error');
    return new GraphQLError(message, { nodes: located?.nodes, path: located?.path, extensions: { code: 'INTERNAL_SERVER_ERROR', status: 500 } });
  };
}

/** Multipart requests are parsed before yoga runs; this hands yoga the parsed operations. */
function usePreparsedMultipart(preparsed: WeakMap<IncomingMessage, unknown>): Plugin<ServerContext> {
  return {
    onRequestParse({ serverContext, setRequestParser }) {
      const req = (serverContext as Partial<ServerContext> | undefined)?.req;
      const operations = req ? preparsed.get(req) : undefined;
      if (operations !== undefined) setRequestParser(() => operations as GraphQLParams | GraphQLParams[]);
    },
  };
}

export function createGraphQLHandler(services: Services, log: Logger, options: { maxJsonBodyBytes: number; maxQueryCost: number; plugins?: Plugin[] }) {
  const preparsed = new WeakMap<IncomingMessage, unknown>();
  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    multipart: false,
    maxRequestBodySize: false,
    landingPage: false,
    graphiql: { title: 'Stowage', defaultQuery: EXAMPLE_QUERY },
    renderGraphiQL: renderGraphiQLPage,
    logging: false,
    // Cross-origin access is the HTTP layer's decision (origin-policy.ts); yoga's default would allow any origin.
    cors: false,
    context: ({ apiKey, res }): Context => {
      // The HTTP layer authenticates every operation; this guards against a route that forgot to.
      if (!apiKey) throw new GraphQLError('Your request does not contain private API key.', { extensions: { code: 'UNAUTHENTICATED', status: 401 } });
      return { services, apiKey, requestId: String(res?.getHeader('x-request-id') ?? randomUUID()) };
    },
    maskedErrors: { maskError: createMaskError(log) },
    plugins: [
      usePreparsedMultipart(preparsed),
      useJsonBodyLimit(options.maxJsonBodyBytes, (ctx) => !!ctx?.req && preparsed.has(ctx.req)),
      useQueryLimits({ maxCost: options.maxQueryCost }),
      ...(options.plugins ?? []),
    ],
  });
  return { yoga, preparsed };
}
