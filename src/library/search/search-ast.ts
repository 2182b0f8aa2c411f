/** ImageKit's searchQuery language as a syntax tree; `parseSearchQuery` builds it, `printSearchQuery` writes it back. */

export type Operator = '=' | ':' | '<' | '<=' | '>' | '>=' | 'IN' | 'NOT =' | 'NOT IN';
export const OPERATORS: readonly Operator[] = ['=', ':', '<', '<=', '>', '>=', 'IN', 'NOT =', 'NOT IN'];

export type Literal = { type: 'string'; value: string } | { type: 'number'; value: number } | { type: 'boolean'; value: boolean };

export interface Condition {
  kind: 'condition';
  field: string;
  op: Operator;
  /** A list for IN / NOT IN, one literal otherwise. */
  value: Literal | Literal[];
  /** Where the condition starts in the query text (for error messages). */
  position: number;
}

export interface Combination {
  kind: 'and' | 'or';
  left: SearchExpr;
  right: SearchExpr;
}

export type SearchExpr = Condition | Combination;

/** A double-quoted string; inside, only `"` and `\` need a backslash. */
const quote = (s: string) => `"${s.replace(/[\\"]/g, '\\$&')}"`;

const printLiteral = (l: Literal): string => (l.type === 'string' ? quote(l.value) : String(l.value));

const isBareField = (field: string) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(field) && !/^(and|or|in|not|true|false)$/i.test(field);

/** Prints a tree so that parsing the text gives the same tree back (nested combinations in parentheses). */
export function printSearchQuery(expr: SearchExpr): string {
  if (expr.kind === 'condition') {
    const field = isBareField(expr.field) ? expr.field : quote(expr.field);
    const value = Array.isArray(expr.value) ? `[${expr.value.map(printLiteral).join(', ')}]` : printLiteral(expr.value);
    return `${field} ${expr.op} ${value}`;
  }
  const side = (e: SearchExpr) => (e.kind === 'condition' ? printSearchQuery(e) : `(${printSearchQuery(e)})`);
  return `${side(expr.left)} ${expr.kind.toUpperCase()} ${side(expr.right)}`;
}
