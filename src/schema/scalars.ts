import { GraphQLError, Kind, valueFromASTUntyped } from 'graphql';
import { Upload } from 'graphql-upload-ts';
import type { FileSource } from '../upload/request.js';
import { builder } from './builder.js';

const invalidUpload = () =>
  new GraphQLError('Upload value invalid: expected a multipart file, or a string holding base64, a data URI or an http(s) URL.', {
    extensions: { code: 'BAD_REQUEST', status: 400, parameter: 'file' },
  });

builder.scalarType('Upload', {
  description:
    'A file to upload, in any of ImageKit\'s three forms: a file part of a GraphQL multipart request, or a string holding base64 (plain or a `data:` URI) or an http(s) URL to download. Strings may be written inline, e.g. in GraphiQL.',
  parseValue: (value): FileSource => {
    if (value instanceof Upload) return { kind: 'stream', file: value.promise as never };
    if (typeof value === 'string') return { kind: 'string', value };
    throw invalidUpload();
  },
  parseLiteral: (node): FileSource => {
    if (node.kind === Kind.STRING) return { kind: 'string', value: node.value };
    throw invalidUpload();
  },
  serialize: () => {
    throw new GraphQLError('Upload is an input-only scalar.');
  },
});

builder.scalarType('DateTime', {
  description: 'An ISO-8601 timestamp in UTC with milliseconds, e.g. `2026-11-28T12:00:00.000Z`.',
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : undefined;
    if (!date || Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string.');
    return date;
  },
});

builder.scalarType('JSON', {
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
});

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

builder.scalarType('JSONObject', {
  description: 'A JSON object, e.g. custom metadata `{"brand": "Acme", "price": 10}`.',
  serialize: (value) => value,
  parseValue: (value) => {
    if (!isPlainObject(value)) throw new GraphQLError('JSONObject must be an object.', { extensions: { code: 'BAD_REQUEST', status: 400 } });
    return value;
  },
  parseLiteral: (node) => {
    if (node.kind !== Kind.OBJECT) throw new GraphQLError('JSONObject must be an object.', { extensions: { code: 'BAD_REQUEST', status: 400 } });
    return valueFromASTUntyped(node) as Record<string, unknown>;
  },
});
