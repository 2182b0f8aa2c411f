import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { parseSearchQuery } from '../../../src/library/search/parse-search-query.js';
import { type Literal, OPERATORS, printSearchQuery, type SearchExpr } from '../../../src/library/search/search-ast.js';

/** Trees without positions, for comparing what was parsed. */
function strip(e: SearchExpr): unknown {
  return e.kind === 'condition' ? { field: e.field, op: e.op, value: e.value } : { kind: e.kind, left: strip(e.left), right: strip(e.right) };
}

const literal: fc.Arbitrary<Literal> = fc.oneof(
  fc.string({ maxLength: 12, unit: 'binary' }).map((value) => ({ type: 'string' as const, value })),
  fc.integer({ min: -1e6, max: 1e6 }).map((value) => ({ type: 'number' as const, value })),
  fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }).filter((v) => !Object.is(v, -0) && /^-?\d+(\.\d+)?$/.test(String(v))).map((value) => ({ type: 'number' as const, value })),
  fc.boolean().map((value) => ({ type: 'boolean' as const, value })),
);
const field = fc.oneof(fc.constantFrom('name', 'tags', 'createdAt', 'size', 'customMetadata.brand', 'embeddedMetadata.Make'), fc.string({ minLength: 1, maxLength: 8, unit: 'binary' }));
const condition: fc.Arbitrary<SearchExpr> = fc
  .tuple(field, fc.constantFrom(...OPERATORS), literal, fc.array(literal, { minLength: 1, maxLength: 3 }))
  .map(([f, op, one, many]) => ({ kind: 'condition' as const, field: f, op, value: op === 'IN' || op === 'NOT IN' ? many : one, position: 0 }));
const expr: fc.Arbitrary<SearchExpr> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, condition, tie('combo')),
  combo: fc.record({ kind: fc.constantFrom('and' as const, 'or' as const), left: tie('node') as fc.Arbitrary<SearchExpr>, right: tie('node') as fc.Arbitrary<SearchExpr> }),
})).node as fc.Arbitrary<SearchExpr>;

describe('searchQuery parser', () => {
  it('parses conditions, lists, AND/OR precedence and parentheses', () => {
    expect(strip(parseSearchQuery('name = "a.jpg" OR size > 10 AND tags IN ["x", "y"]'))).toEqual({
      kind: 'or',
      left: { field: 'name', op: '=', value: { type: 'string', value: 'a.jpg' } },
      right: {
        kind: 'and',
        left: { field: 'size', op: '>', value: { type: 'number', value: 10 } },
        right: { field: 'tags', op: 'IN', value: [{ type: 'string', value: 'x' }, { type: 'string', value: 'y' }] },
      },
    });
    expect(strip(parseSearchQuery('(private = true OR published = false) and "customMetadata.price" NOT IN [1, 2]'))).toMatchObject({
      kind: 'and',
      left: { kind: 'or' },
      right: { field: 'customMetadata.price', op: 'NOT IN' },
    });
    expect(strip(parseSearchQuery("createdAt >= '7d'"))).toEqual({ field: 'createdAt', op: '>=', value: { type: 'string', value: '7d' } });
    expect(strip(parseSearchQuery('name NOT = "x"'))).toMatchObject({ op: 'NOT =' });
    expect(strip(parseSearchQuery('name : "pre"'))).toMatchObject({ op: ':' });
  });

  it.each([
    ['', 0, 'a condition'],
    ['name', 4, 'an operator'],
    ['name = ', 7, 'a value'],
    ['name = foo', 7, 'a value'],
    ['name = "a" AND', 14, 'a field name'],
    ['name = "a" size > 1', 11, 'AND, OR or the end'],
    ['(name = "a"', 11, '")", AND or OR'],
    ['tags IN "a"', 8, 'a list'],
    ['tags IN ["a" "b"]', 13, '"," or "]"'],
    ['name NOT "a"', 9, '"=" or IN after NOT'],
    ['name = "unclosed', 7, 'a closing "'],
    ['name = "a" & size > 1', 11, 'a field, an operator or a value'],
  ])('points at the error in %j', (query, position, expected) => {
    try {
      parseSearchQuery(query);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      const err = e as AppError;
      expect(err.parameter).toBe('searchQuery');
      expect(err.details?.position).toBe(position);
      expect(err.message).toContain(`position ${position}`);
      expect(String(err.details?.expected)).toContain(expected);
    }
  });

  it('round-trips: parse(print(tree)) gives the tree back (property)', () => {
    fc.assert(
      fc.property(expr, (tree) => {
        expect(strip(parseSearchQuery(printSearchQuery(tree)))).toEqual(strip(tree));
      }),
      { numRuns: 1000 },
    );
  });

  it('never crashes: any input parses or fails with a searchQuery error (property)', () => {
    const tokens = fc.constantFrom('name', '=', ':', '<', '>=', 'IN', 'NOT', 'AND', 'OR', '(', ')', '[', ']', ',', '"x"', "'y'", '12', 'true', '"', '\\', ' ');
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 60 }), fc.array(tokens, { maxLength: 20 }).map((t) => t.join(' '))), (input) => {
        try {
          parseSearchQuery(input);
        } catch (e) {
          expect(e).toBeInstanceOf(AppError);
          expect((e as AppError).parameter).toBe('searchQuery');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
