import {
  getNamedType,
  isInputObjectType,
  Kind,
  TypeInfo,
  typeFromAST,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type OperationDefinitionNode,
  type GraphQLSchema,
} from 'graphql';

/** Adds an input type and every input type reachable through its fields: a change to any of them can break the value sent. */
function addInputType(type: GraphQLNamedType | undefined, used: Set<string>): void {
  if (type === undefined || used.has(type.name)) return;
  used.add(type.name);
  if (isInputObjectType(type)) for (const field of Object.values(type.getFields())) addInputType(getNamedType(field.type), used);
}

/**
 * The part of a document one operation runs: that operation and the fragments it spreads,
 * directly or through other fragments. The whole document when no operation of that name exists
 * (or none is named and there are several: Apollo refuses those before they run).
 */
export function operationDocument(document: DocumentNode, operationName?: string | null): DocumentNode {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName == null ? (operations.length === 1 ? operations[0] : undefined) : operations.find((o) => o.name?.value === operationName);
  if (operation === undefined || operations.length === 1) return document;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const used = new Map<string, FragmentDefinitionNode>();
  const spreadsOf = (node: OperationDefinitionNode | FragmentDefinitionNode): void => {
    visit(node, {
      FragmentSpread(spread) {
        const fragment = fragments.get(spread.name.value);
        if (fragment === undefined || used.has(fragment.name.value)) return;
        used.set(fragment.name.value, fragment);
        spreadsOf(fragment);
      },
    });
  };
  spreadsOf(operation);
  return { ...document, definitions: [operation, ...used.values()] };
}

/**
 * The schema coordinates an operation touches: each type it reads (Type), each field
 * (Type.field), each argument it passes (Type.field(arg:)), each input type it sends and each
 * enum value it writes (Enum.VALUE). These are what a breaking change is checked against.
 */
export function operationUsage(schema: GraphQLSchema, document: DocumentNode): Set<string> {
  const used = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field() {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        if (parent == null || field == null) return;
        used.add(parent.name);
        used.add(`${parent.name}.${field.name}`);
        used.add(getNamedType(field.type).name);
      },
      Argument(node) {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        if (parent == null || field == null) return;
        used.add(`${parent.name}.${field.name}(${node.name.value}:)`);
        const arg = typeInfo.getArgument();
        if (arg != null) addInputType(getNamedType(arg.type), used);
      },
      VariableDefinition(node) {
        const type = typeFromAST(schema, node.type);
        if (type !== undefined) addInputType(getNamedType(type), used);
      },
      EnumValue(node) {
        const type = typeInfo.getInputType();
        if (type == null) return;
        const named = getNamedType(type);
        used.add(named.name);
        used.add(`${named.name}.${node.value}`);
      },
      InlineFragment(node) {
        if (node.typeCondition !== undefined) used.add(node.typeCondition.name.value);
      },
      FragmentDefinition(node) {
        used.add(node.typeCondition.name.value);
      },
    }),
  );
  // Root operation types count as used by any operation of their kind.
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const root =
      definition.operation === 'query' ? schema.getQueryType() : definition.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
    if (root != null) used.add(root.name);
  }
  return used;
}
