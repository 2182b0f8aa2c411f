import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { ServerContext } from './graphql.js';

const tooLarge = (limit: number) =>
  new GraphQLError(
    `The request body exceeds ${limit} bytes. Send large files as a multipart file part or as a URL, not as base64 in JSON.`,
    { extensions: { code: 'PAYLOAD_TOO_LARGE', status: 413, parameter: 'file', http: { status: 413 } } },
  );

/**
 * Yoga's own body limit, minus multipart requests (those are parsed as streams before yoga runs, and their
 * files are limited per type while streaming). JSON bodies carry base64 files, so their cap follows the file limit.
 */
export function useJsonBodyLimit(limit: number, isPreparsed: (ctx: Partial<ServerContext> | undefined) => boolean): Plugin<ServerContext> {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI, serverContext }) {
      if (isPreparsed(serverContext as Partial<ServerContext>)) return;
      const declared = request.headers.get('content-length');
      if (declared != null && Number(declared) > limit) throw tooLarge(limit);
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser((req) => {
        let seen = 0;
        const body = req.body?.pipeThrough(
          new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              seen += chunk.byteLength;
              if (seen > limit) controller.error(tooLarge(limit));
              else controller.enqueue(chunk);
            },
          }),
        );
        return parse(new fetchAPI.Request(req.url, { method: req.method, headers: req.headers, body, duplex: 'half' } as RequestInit));
      });
    },
  };
}
