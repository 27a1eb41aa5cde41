import {
  GraphQLError,
  Kind,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  isInterfaceType,
  type ASTVisitor,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type SelectionSetNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type DocumentNode,
  type ValidationContext,
} from 'graphql';

export interface OperationLimits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
}

/** Marks the variables of an actual request, as opposed to validation's declared defaults. */
const ATREQUEST = Symbol('at-request');

/** A list without a size argument is assumed to hold this many items. */
const DEFAULT_LIST_SIZE = 10;
const SIZE_ARGUMENTS = ['first', 'last', 'limit', 'take'];

interface Measure {
  depth: number;
  cost: number;
}

/**
 * The expected length of a list field: its size argument as written, or from the variables
 * (and their declared defaults), or the argument's default in the schema, or 10.
 */
function listSize(node: FieldNode, field: GraphQLField<unknown, unknown>, variables: Record<string, unknown> | undefined): number {
  for (const arg of node.arguments ?? []) {
    if (!SIZE_ARGUMENTS.includes(arg.name.value)) continue;
    if (arg.value.kind === Kind.INT) return Math.max(1, Number(arg.value.value));
    if (arg.value.kind === Kind.VARIABLE) {
      const value = variables?.[arg.value.name.value];
      if (typeof value === 'number' && Number.isFinite(value)) return Math.max(1, value);
      // Validation cannot see variables: the per-request check prices this one.
      if (variables === undefined || !(ATREQUEST in variables)) return DEFAULT_LIST_SIZE;
    }
  }
  // Not given (or a variable the request left out): the schema's default applies.
  for (const arg of field.args) {
    if (SIZE_ARGUMENTS.includes(arg.name) && typeof arg.defaultValue === 'number') return Math.max(1, arg.defaultValue);
  }
  return DEFAULT_LIST_SIZE;
}

function fieldOf(type: GraphQLNamedType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
  return type !== undefined && (isObjectType(type) || isInterfaceType(type)) ? type.getFields()[name] : undefined;
}

/**
 * Depth and cost of a selection: every field costs 1, and whatever a list field selects is
 * paid once per expected item. Fragments are expanded; a fragment cycle stops expansion
 * (the standard NoFragmentCycles rule reports it). A fragment's measure depends only on the
 * fragment, so it is computed once: fragments spreading each other twice per level would
 * otherwise cost 2^levels.
 */
function measure(
  selectionSet: SelectionSetNode,
  parent: GraphQLNamedType | undefined,
  fragments: Record<string, FragmentDefinitionNode>,
  schema: GraphQLSchema,
  variables: Record<string, unknown> | undefined,
  visiting: Set<string>,
  memo: Map<string, Measure>,
): Measure {
  let depth = 0;
  let cost = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value === '__typename') continue;
      const field = fieldOf(parent, selection.name.value);
      const inner = selection.selectionSet === undefined
        ? { depth: 0, cost: 0 }
        : measure(selection.selectionSet, field === undefined ? undefined : getNamedType(field.type), fragments, schema, variables, visiting, memo);
      const multiplier = field !== undefined && isListType(getNullableType(field.type)) ? listSize(selection, field, variables) : 1;
      depth = Math.max(depth, 1 + inner.depth);
      cost += 1 + multiplier * inner.cost;
    } else {
      let inner: Measure;
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const typeName = selection.typeCondition?.name.value;
        const type = typeName === undefined ? parent : schema.getType(typeName) ?? undefined;
        inner = measure(selection.selectionSet, type, fragments, schema, variables, visiting, memo);
      } else {
        const name = selection.name.value;
        const fragment = fragments[name];
        if (fragment === undefined || visiting.has(name)) continue;
        const known = memo.get(name);
        if (known !== undefined) {
          inner = known;
        } else {
          visiting.add(name);
          inner = measure(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) ?? undefined, fragments, schema, variables, visiting, memo);
          visiting.delete(name);
          memo.set(name, inner);
        }
      }
      depth = Math.max(depth, inner.depth);
      cost += inner.cost;
    }
  }
  return { depth, cost };
}

function countAliases(
  selectionSet: SelectionSetNode,
  fragments: Record<string, FragmentDefinitionNode>,
  visiting: Set<string>,
  memo: Map<string, number>,
): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.alias !== undefined) count += 1;
      if (selection.selectionSet !== undefined) count += countAliases(selection.selectionSet, fragments, visiting, memo);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      count += countAliases(selection.selectionSet, fragments, visiting, memo);
    } else {
      const name = selection.name.value;
      const fragment = fragments[name];
      if (fragment === undefined || visiting.has(name)) continue;
      let inner = memo.get(name);
      if (inner === undefined) {
        visiting.add(name);
        inner = countAliases(fragment.selectionSet, fragments, visiting, memo);
        visiting.delete(name);
        memo.set(name, inner);
      }
      count += inner;
    }
  }
  return count;
}

function limitError(message: string, limit: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', limit } });
}

/**
 * A validation rule: it runs once per distinct document (Apollo caches validated documents),
 * so a repeated operation pays nothing for it.
 */
export function operationLimitsRule(limits: OperationLimits) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = fragmentsOf(context.getDocument());
    return {
      OperationDefinition(operation) {
        const schema = context.getSchema();
        const { depth, cost } = measure(operation.selectionSet, schema.getRootType(operation.operation) ?? undefined, fragments, schema, variableDefaults(operation), new Set(), new Map());
        const aliases = countAliases(operation.selectionSet, fragments, new Set(), new Map());
        if (depth > limits.maxDepth) context.reportError(limitError(`Query depth ${depth} exceeds the limit of ${limits.maxDepth}`, 'depth'));
        if (aliases > limits.maxAliases) context.reportError(limitError(`Query uses ${aliases} aliases; the limit is ${limits.maxAliases}`, 'aliases'));
        if (cost > limits.maxCost) context.reportError(costLimitError(cost, limits.maxCost));
      },
    };
  };
}

/** Integer defaults declared on the operation's variables (`$n: Int = 500`). */
function variableDefaults(operation: OperationDefinitionNode): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue?.kind === Kind.INT) defaults[definition.variable.name.value] = Number(definition.defaultValue.value);
  }
  return defaults;
}

function fragmentsOf(document: DocumentNode): Record<string, FragmentDefinitionNode> {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  return fragments;
}

/**
 * The cost of one execution, with the sizes its variables ask for. Validation cannot see
 * variables (a validated document is reused with any), so `users(first: $n)` is checked
 * again per request, and only when the operation declares variables.
 */
export function costWithVariables(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
): number {
  const root = schema.getRootType(operation.operation) ?? undefined;
  const values = { ...variableDefaults(operation), ...variables, [ATREQUEST]: true };
  return measure(operation.selectionSet, root, fragmentsOf(document), schema, values, new Set(), new Map()).cost;
}

function costLimitError(cost: number, maxCost: number): GraphQLError {
  return limitError(`Query cost ${cost} exceeds the budget of ${maxCost}`, 'cost');
}
