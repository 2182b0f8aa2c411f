import type { CodegenConfig } from '@graphql-codegen/cli';

/** Writes the SDL the code emits; `test/schema-drift.test.ts` fails when the committed copy is stale. */
const config: CodegenConfig = {
  schema: './src/schema/index.ts',
  generates: {
    './schema/schema.graphql': {
      plugins: ['schema-ast'],
      config: { includeDirectives: true, sort: true },
    },
  },
};

export default config;
