import {
  GraphQLError,
  Kind,
  getNamedType,
  getNullableType,
  isIntrospectionType,
  isListType,
  isObjectType,
  isInterfaceType,
  parse,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
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
import { TansuError } from '@tansu/platform/errors';

export interface OperationLimits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  /**
   * How many lists of the schema (`types`, `fields`, `interfaces`, `possibleTypes`,
   * `inputFields`) one introspection selection may nest; 2 when not given.
   */
  maxIntrospectionLists?: number;
}

/**
 * The standard introspection queries (graphql-js, GraphiQL, codegen) nest two such lists
 * (`types { fields }`); asking for the fields of those fields' types is three, and each level
 * multiplies the response by the size of the schema.
 */
export const DEFAULT_MAX_INTROSPECTION_LISTS = 2;
const INTROSPECTION_LISTS = new Set(['types', 'fields', 'interfaces', 'possibleTypes', 'inputFields']);

/**
 * A document whose fragments expand to more selections than this is refused before any other
 * rule walks it: graphql-js's own MaxIntrospectionDepthRule walks every expansion of a fragment
 * anew, so fragments spreading the next one twice, forty deep, would hold the process for hours.
 * Hand-written documents stay far below (the full introspection query expands to a few hundred).
 * Apollo validates with graphql-js's rules in the same pass as ours, so the refusal comes first
 * (see useExpansionGuard).
 */
export const MAX_EXPANDED_SELECTIONS = 100_000;

/** Marks the variables of an actual request, as opposed to validation's declared defaults. */
const ATREQUEST = Symbol('at-request');

/** A list without a size argument is assumed to hold this many items. */
const DEFAULT_LIST_SIZE = 10;
const SIZE_ARGUMENTS = ['first', 'last', 'limit', 'take'];

interface Measure {
  depth: number;
  cost: number;
  /** The deepest nesting of introspection lists. */
  lists: number;
  /** Selections as if every fragment were written out where it is spread. */
  selections: number;
}

const NOTHING: Measure = { depth: 0, cost: 0, lists: 0, selections: 0 };

interface Walk {
  fragments: Record<string, FragmentDefinitionNode>;
  schema: GraphQLSchema;
  variables: Record<string, unknown> | undefined;
  visiting: Set<string>;
  memo: Map<string, Measure>;
}

/**
 * The size a field asks for, when its definition has a size argument: as written, or from the
 * variables (and their declared defaults), or the argument's default in the schema, or 10.
 * Undefined for a field without one.
 */
function sizeOf(node: FieldNode, field: GraphQLField<unknown, unknown>, variables: Record<string, unknown> | undefined): number | undefined {
  const sizeArguments = field.args.filter((arg) => SIZE_ARGUMENTS.includes(arg.name));
  if (sizeArguments.length === 0) return undefined;
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
  for (const arg of sizeArguments) {
    if (typeof arg.defaultValue === 'number') return Math.max(1, arg.defaultValue);
  }
  return DEFAULT_LIST_SIZE;
}

/** The field's definition, the query root's `__schema` and `__type` included (they are not among its fields). */
function fieldOf(schema: GraphQLSchema, type: GraphQLNamedType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
  if (type !== undefined && type === schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  return type !== undefined && (isObjectType(type) || isInterfaceType(type)) ? type.getFields()[name] : undefined;
}

/**
 * Depth, cost and introspection nesting of a selection. Every field costs 1, and whatever a
 * list field selects is paid once per expected item. A field that is not a list but takes a
 * size argument is a page (`runs(first: 100) { nodes { id } }`): it is paid once, and the lists
 * directly under it without a size of their own hold as many items as it asks for (`page`).
 *
 * Introspection is measured by its own shape: `ofType` adds no depth (the standard queries
 * unwrap nine levels of it), while `types`/`fields`/`interfaces`/`possibleTypes`/`inputFields`
 * nested within each other are counted and bounded apart.
 *
 * Fragments are expanded; a fragment cycle stops expansion (the standard NoFragmentCycles rule
 * reports it). A fragment's measure depends only on the fragment and the page it lands in, so
 * it is computed once per page: fragments spreading each other twice per level would otherwise
 * cost 2^levels.
 */
function measure(selectionSet: SelectionSetNode, parent: GraphQLNamedType | undefined, page: number | undefined, walk: Walk): Measure {
  let depth = 0;
  let cost = 0;
  let lists = 0;
  let selections = 0;
  const introspection = parent !== undefined && isIntrospectionType(parent);
  for (const selection of selectionSet.selections) {
    selections += 1;
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      if (name === '__typename') continue;
      const field = fieldOf(walk.schema, parent, name);
      const isList = field !== undefined && isListType(getNullableType(field.type));
      const size = field === undefined ? undefined : sizeOf(selection, field, walk.variables);
      const inner =
        selection.selectionSet === undefined
          ? NOTHING
          : measure(selection.selectionSet, field === undefined ? undefined : getNamedType(field.type), isList ? undefined : size, walk);
      const multiplier = isList ? (size ?? page ?? DEFAULT_LIST_SIZE) : 1;
      depth = Math.max(depth, (introspection && name === 'ofType' ? 0 : 1) + inner.depth);
      cost += 1 + multiplier * inner.cost;
      lists = Math.max(lists, (introspection && INTROSPECTION_LISTS.has(name) ? 1 : 0) + inner.lists);
      selections += inner.selections;
      continue;
    }
    let inner: Measure;
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const typeName = selection.typeCondition?.name.value;
      const type = typeName === undefined ? parent : (walk.schema.getType(typeName) ?? undefined);
      inner = measure(selection.selectionSet, type, page, walk);
    } else {
      const name = selection.name.value;
      const fragment = walk.fragments[name];
      if (fragment === undefined || walk.visiting.has(name)) continue;
      const key = `${name}|${page ?? ''}`;
      const known = walk.memo.get(key);
      if (known !== undefined) {
        inner = known;
      } else {
        walk.visiting.add(name);
        inner = measure(fragment.selectionSet, walk.schema.getType(fragment.typeCondition.name.value) ?? undefined, page, walk);
        walk.visiting.delete(name);
        walk.memo.set(key, inner);
      }
    }
    depth = Math.max(depth, inner.depth);
    cost += inner.cost;
    lists = Math.max(lists, inner.lists);
    selections += inner.selections;
  }
  return { depth, cost, lists, selections };
}

function measureOperation(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
): Measure {
  const root = schema.getRootType(operation.operation) ?? undefined;
  return measure(operation.selectionSet, root, undefined, { fragments, schema, variables, visiting: new Set(), memo: new Map() });
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

function expansionError(): TansuError {
  return new TansuError('BAD_USER_INPUT', `The document's fragments expand to more than ${MAX_EXPANDED_SELECTIONS} selections`, {
    extensions: { limit: 'fragments' },
  });
}

function operationsOf(document: DocumentNode): OperationDefinitionNode[] {
  return document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
}

/** Documents put in place of refused ones, with the refusal validating them reports. */
const refusals = new WeakMap<DocumentNode, GraphQLError>();

/**
 * The refusal of a document whose fragments expand past MAX_EXPANDED_SELECTIONS, counted
 * without expanding them; undefined for any other document.
 */
export function expansionRefusal(schema: GraphQLSchema, document: DocumentNode): GraphQLError | undefined {
  const fragments = fragmentsOf(document);
  const tooBig = operationsOf(document).some(
    (operation) => measureOperation(schema, operation, fragments, variableDefaults(operation)).selections > MAX_EXPANDED_SELECTIONS,
  );
  return tooBig ? expansionError() : undefined;
}

/** A stand-in for a refused document: validating it with operationLimitsRule reports the refusal, and nothing else walks it. */
export function refusedDocument(refusal: GraphQLError): DocumentNode {
  const document = parse('{ __typename }');
  refusals.set(document, refusal);
  return document;
}

/**
 * A validation rule: it runs once per distinct document (Apollo caches validated documents),
 * so a repeated operation pays nothing for it. Everything is measured when the document is
 * entered, before any rule visits a field.
 *
 * A document that expands past MAX_EXPANDED_SELECTIONS must not reach the other rules of the
 * same validation pass (reporting an error does not stop them): Apollo's pipeline swaps it for
 * a refused stand-in before validation (useExpansionGuard); anywhere else this rule throws the
 * BAD_USER_INPUT error, for the caller of `validate` to return.
 */
export function operationLimitsRule(limits: OperationLimits) {
  const maxLists = limits.maxIntrospectionLists ?? DEFAULT_MAX_INTROSPECTION_LISTS;
  return (context: ValidationContext): ASTVisitor => ({
    Document(document) {
      const refusal = refusals.get(document);
      if (refusal !== undefined) {
        context.reportError(refusal);
        return false;
      }
      const schema = context.getSchema();
      const fragments = fragmentsOf(document);
      const operations = operationsOf(document);
      const measured = operations.map((operation) => measureOperation(schema, operation, fragments, variableDefaults(operation)));
      if (measured.some((m) => m.selections > MAX_EXPANDED_SELECTIONS)) throw expansionError();
      operations.forEach((operation, i) => {
        const { depth, cost, lists } = measured[i]!;
        const aliases = countAliases(operation.selectionSet, fragments, new Set(), new Map());
        if (depth > limits.maxDepth) context.reportError(limitError(`Query depth ${depth} exceeds the limit of ${limits.maxDepth}`, 'depth'));
        if (aliases > limits.maxAliases) context.reportError(limitError(`Query uses ${aliases} aliases; the limit is ${limits.maxAliases}`, 'aliases'));
        if (cost > limits.maxCost) context.reportError(costLimitError(cost, limits.maxCost));
        if (lists > maxLists) {
          context.reportError(
            limitError(
              `Introspection nests ${lists} lists of the schema (types, fields, interfaces, possibleTypes, inputFields); the limit is ${maxLists}`,
              'introspection',
            ),
          );
        }
      });
      return false;
    },
  });
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
  const values = { ...variableDefaults(operation), ...variables, [ATREQUEST]: true };
  return measureOperation(schema, operation, fragmentsOf(document), values).cost;
}

function costLimitError(cost: number, maxCost: number): GraphQLError {
  return limitError(`Query cost ${cost} exceeds the budget of ${maxCost}`, 'cost');
}
