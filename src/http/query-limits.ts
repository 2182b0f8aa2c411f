import { type DocumentNode, type ExecutionArgs, type ExecutionResult, Kind, Lexer, type SelectionSetNode, Source, TokenKind, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { AppError } from '../errors.js';
import { toRequestGraphQLError } from './error-format.js';
import { queryCost } from './query-cost.js';

export interface QueryLimits {
  /** The largest `queryCost` executed (STOWAGE_MAX_QUERY_COST). */
  maxCost: number;
}

/** A real document stays far below these; they stop a flood of aliases or root fields before validation. */
const MAX_QUERY_TOKENS = 10_000;
const MAX_ALIASES = 200;
const MAX_ROOT_FIELDS = 100;

const tooComplex = (message: string, details: Record<string, number>) =>
  toRequestGraphQLError(new AppError('QUERY_TOO_COMPLEX', message, { parameter: 'query', details }));

/** Whether the document has more tokens than the limit; lexes no further than that. */
function exceedsTokenLimit(source: string | Source): boolean {
  const lexer = new Lexer(typeof source === 'string' ? new Source(source) : source);
  for (let tokens = 0; tokens <= MAX_QUERY_TOKENS; tokens++) {
    if (lexer.advance().kind === TokenKind.EOF) return false;
  }
  return true;
}

function countAliases(document: DocumentNode): number {
  let aliases = 0;
  visit(document, {
    Field(node) {
      if (node.alias) aliases++;
    },
  });
  return aliases;
}

/** The most fields at the root of one operation, fragments at the root included. */
function countRootFields(document: DocumentNode): number {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d.selectionSet] as const] : [])));
  // Each fragment is counted once (0 while in progress, so a cycle cannot loop), so nested spreads cannot blow up.
  const fragmentCounts = new Map<string, number>();
  const countFragment = (name: string): number => {
    const known = fragmentCounts.get(name);
    if (known !== undefined) return known;
    fragmentCounts.set(name, 0);
    const fragment = fragments.get(name);
    const n = fragment ? count(fragment) : 0;
    fragmentCounts.set(name, n);
    return n;
  };
  const count = (set: SelectionSetNode): number =>
    set.selections.reduce((n, selection) => {
      if (selection.kind === Kind.FIELD) return n + 1;
      if (selection.kind === Kind.INLINE_FRAGMENT) return n + count(selection.selectionSet);
      return n + countFragment(selection.name.value);
    }, 0);
  return Math.max(0, ...document.definitions.map((d) => (d.kind === Kind.OPERATION_DEFINITION ? count(d.selectionSet) : 0)));
}

/**
 * Refuses, before anything runs, documents too big to be a real client's (tokens, aliases, root fields) and
 * operations whose cost (see `queryCost`) exceeds the limit, with a QUERY_TOO_COMPLEX error naming both.
 * The cost is checked when the operation starts, because page sizes may come from variables.
 */
export function useQueryLimits(limits: QueryLimits): Plugin {
  const checkCost = (args: ExecutionArgs, refuse: (result: ExecutionResult) => void) => {
    const cost = queryCost(args.schema, args.document, args.operationName, (args.variableValues ?? {}) as Record<string, unknown>);
    if (cost <= limits.maxCost) return;
    refuse({
      errors: [
        tooComplex(
          `The query costs ${cost}, more than the limit of ${limits.maxCost} (STOWAGE_MAX_QUERY_COST). Every field counts 1, times the page size (first, limit) of each list around it: ask for smaller pages, fewer fields or fewer aliases.`,
          { cost, maxCost: limits.maxCost },
        ),
      ],
    });
  };
  return {
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => {
        try {
          return parseFn(source, { ...options, maxTokens: MAX_QUERY_TOKENS });
        } catch (error) {
          // graphql's own message for this is a syntax error; say what the limit is instead.
          if (exceedsTokenLimit(source)) throw tooComplex(`The query has more than ${MAX_QUERY_TOKENS} tokens (names, punctuation, values), the limit.`, { maxTokens: MAX_QUERY_TOKENS });
          throw error;
        }
      });
    },
    onValidate({ params, setResult }) {
      const aliases = countAliases(params.documentAST);
      if (aliases > MAX_ALIASES) {
        setResult([tooComplex(`The query uses ${aliases} aliases, more than the limit of ${MAX_ALIASES}.`, { aliases, maxAliases: MAX_ALIASES })]);
        return;
      }
      const rootFields = countRootFields(params.documentAST);
      if (rootFields > MAX_ROOT_FIELDS) {
        setResult([tooComplex(`The operation selects ${rootFields} root fields, more than the limit of ${MAX_ROOT_FIELDS}.`, { rootFields, maxRootFields: MAX_ROOT_FIELDS })]);
      }
    },
    onExecute({ args, setResultAndStopExecution }) {
      checkCost(args, setResultAndStopExecution);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      checkCost(args, setResultAndStopExecution);
    },
  };
}
