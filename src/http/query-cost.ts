import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  getNamedType,
  getVariableValues,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  isInterfaceType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  valueFromAST,
} from 'graphql';

/** Arguments that set how many items a list field returns (`files(first:)`, `webhookDeliveries(limit:)`). */
const PAGE_SIZE_ARGS = ['first', 'last', 'limit'];

/**
 * How many items a field may return: its page-size argument (as sent, or its default), 1 for anything else.
 * Lists without a page-size argument are small or bounded elsewhere (tags, versions, a connection's nodes).
 */
function pageSize(field: FieldNode, definition: GraphQLField<unknown, unknown> | undefined, variables: Record<string, unknown>): number {
  for (const name of PAGE_SIZE_ARGS) {
    const arg = definition?.args.find((a) => a.name === name);
    if (!arg) continue;
    const node = field.arguments?.find((a) => a.name.value === name);
    // A missing variable or an explicit null leaves the argument's default to the resolver.
    const value = (node ? valueFromAST(node.value, arg.type, variables) : undefined) ?? arg.defaultValue;
    if (typeof value === 'number' && Number.isFinite(value)) return Math.max(1, value);
  }
  return 1;
}

/**
 * The static cost of an operation: every field counts 1, multiplied by the page size of every list field
 * around it. `{ files(first: 1000) { nodes { name } } }` costs 1 + 1000 × (1 + 1) = 2001; fragments on
 * different types are all counted, so this is an upper bound. Directives (`@skip`) are ignored.
 */
export function queryCost(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> = {}): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: OperationDefinitionNode[] = [];
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    if (definition.kind === Kind.OPERATION_DEFINITION) operations.push(definition);
  }
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
  if (!operation) return 0;
  // Variables as execution will see them (operation defaults applied); invalid ones fail execution anyway.
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
  const values = coerced.coerced ?? {};

  // A fragment costs the same wherever it is spread: counted once, so nested spreads cannot blow up.
  const fragmentCosts = new Map<string, number>();
  const fragmentCost = (name: string): number => {
    const known = fragmentCosts.get(name);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    // Validation refuses fragment cycles; the provisional 0 only keeps a cycle from looping here.
    fragmentCosts.set(name, 0);
    const cost = fragment ? costOf(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) ?? undefined) : 0;
    fragmentCosts.set(name, cost);
    return cost;
  };
  const costOf = (selectionSet: SelectionSetNode | undefined, type: GraphQLNamedType | undefined): number => {
    let cost = 0;
    for (const selection of selectionSet?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        const definition = isObjectType(type) || isInterfaceType(type) ? type.getFields()[selection.name.value] : undefined;
        const children = selection.selectionSet ? costOf(selection.selectionSet, definition && getNamedType(definition.type)) : 0;
        cost += 1 + pageSize(selection, definition, values) * children;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        cost += costOf(selection.selectionSet, selection.typeCondition ? schema.getType(selection.typeCondition.name.value) ?? undefined : type);
      } else {
        cost += fragmentCost(selection.name.value);
      }
    }
    return cost;
  };
  return costOf(operation.selectionSet, schema.getRootType(operation.operation) ?? undefined);
}
