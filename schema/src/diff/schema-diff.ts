import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isRequiredArgument,
  isRequiredInputField,
  isUnionType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type GraphQLType,
} from 'graphql';

/** Breaking: some valid client operation stops working. Dangerous: it may behave differently. */
export type ChangeLevel = 'breaking' | 'dangerous' | 'safe';

export interface SchemaChange {
  kind: string;
  level: ChangeLevel;
  /** Schema coordinate of what changed: Type, Type.field, Type.field(arg:), Enum.VALUE. */
  coordinate: string;
  message: string;
  /**
   * Coordinates whose use by any operation makes this change affect a client (see
   * `operationUsage`): a breaking change touching none of them within the window is a warning.
   */
  usage: string[];
}

const kindOf = (type: GraphQLNamedType) =>
  isObjectType(type)
    ? 'object'
    : isInterfaceType(type)
      ? 'interface'
      : isUnionType(type)
        ? 'union'
        : isEnumType(type)
          ? 'enum'
          : isInputObjectType(type)
            ? 'input'
            : 'scalar';

/**
 * Whether every value a client could read from `before` is still one it can read from
 * `after`: the same named type, list stays list, and a nullable field may become non-null
 * but not the other way round.
 */
function safeForOutput(before: GraphQLType, after: GraphQLType): boolean {
  if (isNonNullType(before)) return isNonNullType(after) && safeForOutput(before.ofType, after.ofType);
  if (isNonNullType(after)) return safeForOutput(before, after.ofType);
  if (isListType(before)) return isListType(after) && safeForOutput(before.ofType, after.ofType);
  if (isListType(after)) return false;
  return before.name === after.name;
}

/**
 * Whether every value a client could send to `before` is still accepted by `after`: the same
 * named type, list stays list, and a required input may become optional but not the reverse.
 */
function safeForInput(before: GraphQLType, after: GraphQLType): boolean {
  if (isNonNullType(after)) return isNonNullType(before) && safeForInput(before.ofType, after.ofType);
  if (isNonNullType(before)) return safeForInput(before.ofType, after);
  if (isListType(before)) return isListType(after) && safeForInput(before.ofType, after.ofType);
  if (isListType(after)) return false;
  return before.name === after.name;
}

/** Enum types some field returns: a new value there can reach clients that do not know it. */
function outputEnums(schema: GraphQLSchema): Set<string> {
  const enums = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) && !isInterfaceType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const named = getNamedType(field.type);
      if (isEnumType(named)) enums.add(named.name);
    }
  }
  return enums;
}

const sameDefault = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Every difference a client could notice between two API schemas, each with its level. */
export function diffSchemas(before: GraphQLSchema, after: GraphQLSchema): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const add = (kind: string, level: ChangeLevel, coordinate: string, message: string, usage: string[] = [coordinate]) =>
    changes.push({ kind, level, coordinate, message, usage });
  const enumsInOutput = outputEnums(after);
  const oldTypes = before.getTypeMap();
  const newTypes = after.getTypeMap();

  for (const [name, oldType] of Object.entries(oldTypes)) {
    if (name.startsWith('__')) continue;
    const newType = newTypes[name];
    if (newType === undefined) {
      add('TYPE_REMOVED', 'breaking', name, `Type ${name} was removed`);
      continue;
    }
    if (kindOf(oldType) !== kindOf(newType)) {
      add('TYPE_KIND_CHANGED', 'breaking', name, `${name} changed from ${kindOf(oldType)} to ${kindOf(newType)}`);
      continue;
    }
    if ((isObjectType(oldType) || isInterfaceType(oldType)) && (isObjectType(newType) || isInterfaceType(newType))) {
      diffFields(name, oldType.getFields(), newType.getFields(), add);
      const kept = new Set(newType.getInterfaces().map((i) => i.name));
      for (const iface of oldType.getInterfaces()) {
        if (!kept.has(iface.name)) add('INTERFACE_REMOVED', 'breaking', name, `${name} no longer implements ${iface.name}`, [name, iface.name]);
      }
      const had = new Set(oldType.getInterfaces().map((i) => i.name));
      // Clients switching on __typename over the interface meet a type they may not expect.
      for (const iface of newType.getInterfaces()) if (!had.has(iface.name)) add('INTERFACE_ADDED', 'dangerous', name, `${name} now implements ${iface.name}`);
    } else if (isUnionType(oldType) && isUnionType(newType)) {
      const members = new Set(newType.getTypes().map((t) => t.name));
      for (const member of oldType.getTypes())
        if (!members.has(member.name)) add('UNION_MEMBER_REMOVED', 'breaking', name, `${member.name} was removed from union ${name}`, [name]);
      const had = new Set(oldType.getTypes().map((t) => t.name));
      for (const member of newType.getTypes()) {
        if (!had.has(member.name))
          add('UNION_MEMBER_ADDED', 'dangerous', name, `${member.name} was added to union ${name}: clients switching on __typename may not expect it`);
      }
    } else if (isEnumType(oldType) && isEnumType(newType)) {
      const values = new Map(newType.getValues().map((v) => [v.name, v]));
      for (const value of oldType.getValues()) {
        const now = values.get(value.name);
        if (now === undefined) add('ENUM_VALUE_REMOVED', 'breaking', `${name}.${value.name}`, `Enum value ${name}.${value.name} was removed`, [name]);
        else if (now.deprecationReason != null && value.deprecationReason == null)
          add('ENUM_VALUE_DEPRECATED', 'safe', `${name}.${value.name}`, `Enum value ${name}.${value.name} is deprecated`);
      }
      const had = new Set(oldType.getValues().map((v) => v.name));
      for (const value of newType.getValues()) {
        if (had.has(value.name)) continue;
        // Only values a client may read can surprise it; an input-only enum gains an option.
        if (enumsInOutput.has(name))
          add(
            'ENUM_VALUE_ADDED',
            'dangerous',
            `${name}.${value.name}`,
            `Enum value ${name}.${value.name} was added: clients reading ${name} may not expect it`,
          );
        else add('ENUM_VALUE_ADDED', 'safe', `${name}.${value.name}`, `Enum value ${name}.${value.name} was added (input only)`);
      }
    } else if (isInputObjectType(oldType) && isInputObjectType(newType)) {
      diffInputFields(name, oldType.getFields(), newType.getFields(), add);
    }
  }
  for (const name of Object.keys(newTypes)) {
    if (!name.startsWith('__') && oldTypes[name] === undefined) add('TYPE_ADDED', 'safe', name, `Type ${name} was added`);
  }
  return changes;
}

type Add = (kind: string, level: ChangeLevel, coordinate: string, message: string, usage?: string[]) => void;

function diffFields(
  typeName: string,
  before: Record<string, GraphQLField<unknown, unknown>>,
  after: Record<string, GraphQLField<unknown, unknown>>,
  add: Add,
): void {
  for (const [name, field] of Object.entries(before)) {
    const coordinate = `${typeName}.${name}`;
    const now = after[name];
    if (now === undefined) {
      add('FIELD_REMOVED', 'breaking', coordinate, `Field ${coordinate} was removed`);
      continue;
    }
    if (!safeForOutput(field.type, now.type)) {
      const loosened = isNonNullType(field.type) && !isNonNullType(now.type) && String(field.type.ofType) === String(now.type);
      add(
        loosened ? 'FIELD_NULLABILITY_LOOSENED' : 'FIELD_TYPE_CHANGED',
        'breaking',
        coordinate,
        `Field ${coordinate} changed type from ${String(field.type)} to ${String(now.type)}`,
      );
    } else if (String(field.type) !== String(now.type)) {
      add(
        'FIELD_TYPE_CHANGED',
        'safe',
        coordinate,
        `Field ${coordinate} changed type from ${String(field.type)} to ${String(now.type)} (every value stays readable)`,
      );
    }
    if (now.deprecationReason != null && field.deprecationReason == null)
      add('FIELD_DEPRECATED', 'safe', coordinate, `Field ${coordinate} is deprecated: ${now.deprecationReason}`);
    diffArguments(coordinate, field.args, now.args, add);
  }
  for (const name of Object.keys(after))
    if (before[name] === undefined) add('FIELD_ADDED', 'safe', `${typeName}.${name}`, `Field ${typeName}.${name} was added`);
}

function diffArguments(fieldCoordinate: string, before: readonly GraphQLArgument[], after: readonly GraphQLArgument[], add: Add): void {
  const now = new Map(after.map((a) => [a.name, a]));
  for (const arg of before) {
    const coordinate = `${fieldCoordinate}(${arg.name}:)`;
    const next = now.get(arg.name);
    if (next === undefined) {
      // Only operations that pass it break.
      add('ARGUMENT_REMOVED', 'breaking', coordinate, `Argument ${coordinate} was removed`, [coordinate]);
      continue;
    }
    if (!safeForInput(arg.type, next.type)) {
      const tightened = !isNonNullType(arg.type) && isNonNullType(next.type) && String(arg.type) === String(next.type.ofType);
      add(
        tightened ? 'ARGUMENT_NULLABILITY_TIGHTENED' : 'ARGUMENT_TYPE_CHANGED',
        'breaking',
        coordinate,
        `Argument ${coordinate} changed type from ${String(arg.type)} to ${String(next.type)}`,
        [fieldCoordinate],
      );
    } else if (!isRequiredArgument(arg) && isRequiredArgument(next)) {
      // Same type, but the default that let operations leave it out is gone.
      add('ARGUMENT_DEFAULT_REMOVED', 'breaking', coordinate, `Argument ${coordinate} lost its default and is now required`, [fieldCoordinate]);
    } else if (String(arg.type) !== String(next.type)) {
      add(
        'ARGUMENT_TYPE_CHANGED',
        'safe',
        coordinate,
        `Argument ${coordinate} changed type from ${String(arg.type)} to ${String(next.type)} (every value stays accepted)`,
      );
    } else if (!sameDefault(arg.defaultValue, next.defaultValue)) {
      add(
        'ARGUMENT_DEFAULT_CHANGED',
        'dangerous',
        coordinate,
        `Argument ${coordinate} default changed from ${JSON.stringify(arg.defaultValue)} to ${JSON.stringify(next.defaultValue)}`,
        [fieldCoordinate],
      );
    }
  }
  const had = new Set(before.map((a) => a.name));
  for (const arg of after) {
    if (had.has(arg.name)) continue;
    const coordinate = `${fieldCoordinate}(${arg.name}:)`;
    // Every operation selecting the field breaks when it must now pass something it never knew of.
    if (isRequiredArgument(arg)) add('REQUIRED_ARGUMENT_ADDED', 'breaking', coordinate, `Required argument ${coordinate} was added`, [fieldCoordinate]);
    else add('ARGUMENT_ADDED', 'safe', coordinate, `Optional argument ${coordinate} was added`);
  }
}

function diffInputFields(typeName: string, before: Record<string, GraphQLInputField>, after: Record<string, GraphQLInputField>, add: Add): void {
  for (const [name, field] of Object.entries(before)) {
    const coordinate = `${typeName}.${name}`;
    const now = after[name];
    if (now === undefined) {
      add('INPUT_FIELD_REMOVED', 'breaking', coordinate, `Input field ${coordinate} was removed`, [typeName]);
      continue;
    }
    if (!safeForInput(field.type, now.type)) {
      const tightened = !isNonNullType(field.type) && isNonNullType(now.type) && String(field.type) === String(now.type.ofType);
      add(
        tightened ? 'INPUT_FIELD_NULLABILITY_TIGHTENED' : 'INPUT_FIELD_TYPE_CHANGED',
        'breaking',
        coordinate,
        `Input field ${coordinate} changed type from ${String(field.type)} to ${String(now.type)}`,
        [typeName],
      );
    } else if (!isRequiredInputField(field) && isRequiredInputField(now)) {
      add('INPUT_FIELD_DEFAULT_REMOVED', 'breaking', coordinate, `Input field ${coordinate} lost its default and is now required`, [typeName]);
    } else if (String(field.type) !== String(now.type)) {
      add(
        'INPUT_FIELD_TYPE_CHANGED',
        'safe',
        coordinate,
        `Input field ${coordinate} changed type from ${String(field.type)} to ${String(now.type)} (every value stays accepted)`,
      );
    } else if (!sameDefault(field.defaultValue, now.defaultValue)) {
      add('INPUT_FIELD_DEFAULT_CHANGED', 'dangerous', coordinate, `Input field ${coordinate} default changed`, [typeName]);
    }
    if (now.deprecationReason != null && field.deprecationReason == null)
      add('INPUT_FIELD_DEPRECATED', 'safe', coordinate, `Input field ${coordinate} is deprecated`);
  }
  for (const [name, field] of Object.entries(after)) {
    if (before[name] !== undefined) continue;
    const coordinate = `${typeName}.${name}`;
    if (isRequiredInputField(field)) add('REQUIRED_INPUT_FIELD_ADDED', 'breaking', coordinate, `Required input field ${coordinate} was added`, [typeName]);
    else add('INPUT_FIELD_ADDED', 'safe', coordinate, `Optional input field ${coordinate} was added`);
  }
}
