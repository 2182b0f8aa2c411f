import SchemaBuilder from '@pothos/core';
import type { Context } from '../http/context.js';
import type { FileSource } from '../upload/request.js';

export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultFieldNullability: false;
  Scalars: {
    Upload: { Input: FileSource; Output: never };
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    JSONObject: { Input: Record<string, unknown>; Output: Record<string, unknown> };
  };
}>({ defaultFieldNullability: false });
