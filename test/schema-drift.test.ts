import fs from 'node:fs';
import path from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import codegenConfig from '../codegen.js';
import { schema } from '../src/schema/index.js';

describe('schema/schema.graphql', () => {
  it('is what the code emits (run `npm run codegen` after changing the schema)', async () => {
    const target = './schema/schema.graphql';
    const output = codegenConfig.generates[target] as object;
    const [result] = await generate({ schema: printSchema(schema), generates: { [target]: output }, silent: true }, false);
    const committed = fs.readFileSync(path.resolve(target), 'utf8');
    expect(committed).toBe(result?.content);
    expect(committed).toMatch(/uploadFile\(/);
  });
});
