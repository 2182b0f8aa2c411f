import { AppError } from '../../errors.js';
import type { Condition, Literal, Operator, SearchExpr } from './search-ast.js';

/** A syntax error, with the position (0-based) where the query stops making sense and what would fit there. */
export const searchSyntaxError = (position: number, expected: string, found: string) =>
  new AppError('BAD_REQUEST', `Invalid search query at position ${position}: expected ${expected}, found ${found}.`, {
    parameter: 'searchQuery',
    details: { position, expected, found },
  });

type Token =
  | { kind: 'word'; text: string; pos: number }
  | { kind: 'string'; text: string; pos: number }
  | { kind: 'number'; value: number; text: string; pos: number }
  | { kind: 'symbol'; text: '(' | ')' | '[' | ']' | ',' | '=' | ':' | '<' | '<=' | '>' | '>='; pos: number }
  | { kind: 'end'; pos: number };

function describe(token: Token): string {
  if (token.kind === 'end') return 'the end of the query';
  if (token.kind === 'string') return `the string ${JSON.stringify(token.text)}`;
  return `"${token.text}"`;
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === '"' || c === "'") {
      let text = '';
      i++;
      while (i < input.length && input[i] !== c) {
        if (input[i] === '\\' && i + 1 < input.length) i++;
        text += input[i];
        i++;
      }
      if (i >= input.length) throw searchSyntaxError(start, `a closing ${c}`, 'the end of the query');
      i++;
      tokens.push({ kind: 'string', text, pos: start });
      continue;
    }
    if (c === '<' || c === '>') {
      const text = input[i + 1] === '=' ? `${c}=` : c;
      i += text.length;
      tokens.push({ kind: 'symbol', text: text as '<' | '<=' | '>' | '>=', pos: start });
      continue;
    }
    if ('()[],=:'.includes(c)) {
      tokens.push({ kind: 'symbol', text: c as '(' | ')', pos: start });
      i++;
      continue;
    }
    const number = /^-?\d+(\.\d+)?(?![A-Za-z0-9_.])/.exec(input.slice(i));
    if (number) {
      tokens.push({ kind: 'number', value: Number(number[0]), text: number[0], pos: start });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z0-9_.-]+/.exec(input.slice(i));
    if (word) {
      tokens.push({ kind: 'word', text: word[0], pos: start });
      i += word[0].length;
      continue;
    }
    throw searchSyntaxError(start, 'a field, an operator or a value', `"${c}"`);
  }
  tokens.push({ kind: 'end', pos: input.length });
  return tokens;
}

const isKeyword = (t: Token, word: string) => t.kind === 'word' && t.text.toUpperCase() === word;

/**
 * Parses ImageKit's searchQuery: `field operator value` conditions combined with AND / OR (AND binds tighter)
 * and grouped with parentheses. Fields are bare words or quoted (`"customMetadata.brand"`); values are quoted
 * strings, numbers, `true`/`false`, or `[...]` lists after IN / NOT IN.
 * @throws BAD_REQUEST (searchQuery) naming the position and what was expected there.
 */
export function parseSearchQuery(input: string): SearchExpr {
  const tokens = tokenize(input);
  let at = 0;
  const peek = () => tokens[at] as Token;
  const next = () => tokens[at++] as Token;

  const parseOr = (): SearchExpr => {
    let left = parseAnd();
    while (isKeyword(peek(), 'OR')) {
      next();
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): SearchExpr => {
    let left = parseUnit();
    while (isKeyword(peek(), 'AND')) {
      next();
      left = { kind: 'and', left, right: parseUnit() };
    }
    return left;
  };
  const parseUnit = (): SearchExpr => {
    const t = peek();
    if (t.kind === 'symbol' && t.text === '(') {
      next();
      const inner = parseOr();
      const close = next();
      if (!(close.kind === 'symbol' && close.text === ')')) throw searchSyntaxError(close.pos, '")", AND or OR', describe(close));
      return inner;
    }
    return parseCondition();
  };
  const parseCondition = (): Condition => {
    const fieldToken = next();
    const isField = fieldToken.kind === 'string' || (fieldToken.kind === 'word' && !/^(AND|OR|IN|NOT)$/i.test(fieldToken.text));
    if (!isField) {
      throw searchSyntaxError(fieldToken.pos, 'a field name such as name, tags, createdAt or "customMetadata.<field>"', describe(fieldToken));
    }
    const op = parseOperator();
    const value = op === 'IN' || op === 'NOT IN' ? parseList() : parseLiteral();
    return { kind: 'condition', field: fieldToken.text, op, value, position: fieldToken.pos };
  };
  const parseOperator = (): Operator => {
    const t = next();
    if (t.kind === 'symbol' && ['=', ':', '<', '<=', '>', '>='].includes(t.text)) return t.text as Operator;
    if (isKeyword(t, 'IN')) return 'IN';
    if (isKeyword(t, 'NOT')) {
      const after = next();
      if (after.kind === 'symbol' && after.text === '=') return 'NOT =';
      if (isKeyword(after, 'IN')) return 'NOT IN';
      throw searchSyntaxError(after.pos, '"=" or IN after NOT', describe(after));
    }
    throw searchSyntaxError(t.pos, 'an operator (=, :, <, <=, >, >=, IN, NOT =, NOT IN)', describe(t));
  };
  const parseLiteral = (): Literal => {
    const t = next();
    if (t.kind === 'string') return { type: 'string', value: t.text };
    if (t.kind === 'number') return { type: 'number', value: t.value };
    if (t.kind === 'word' && /^(true|false)$/i.test(t.text)) return { type: 'boolean', value: t.text.toLowerCase() === 'true' };
    throw searchSyntaxError(t.pos, 'a value: a quoted string, a number, true or false', describe(t));
  };
  const parseList = (): Literal[] => {
    const open = next();
    if (!(open.kind === 'symbol' && open.text === '[')) throw searchSyntaxError(open.pos, 'a list like ["a", "b"] after IN', describe(open));
    const items: Literal[] = [parseLiteral()];
    for (;;) {
      const t = next();
      if (t.kind === 'symbol' && t.text === ']') return items;
      if (!(t.kind === 'symbol' && t.text === ',')) throw searchSyntaxError(t.pos, '"," or "]"', describe(t));
      items.push(parseLiteral());
    }
  };

  if (peek().kind === 'end') throw searchSyntaxError(0, 'a condition', 'an empty query');
  const expr = parseOr();
  const rest = peek();
  if (rest.kind !== 'end') throw searchSyntaxError(rest.pos, 'AND, OR or the end of the query', describe(rest));
  return expr;
}
