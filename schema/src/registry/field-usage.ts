import { isInterfaceType, isIntrospectionType, isObjectType } from 'graphql';
import type { UsageLookup } from '../check/check-subgraph.ts';
import { apiSchemaOf } from '../check/compose-variant.ts';
import type { OperationCount } from './usage-store.ts';

/** A field of the API schema clients see. */
export interface ApiField {
  /** `Type.field`, as usage is recorded. */
  coordinate: string;
  typeName: string;
  fieldName: string;
  deprecationReason: string | null;
}

export interface FieldCount extends ApiField {
  /** Operations that selected it within the window. */
  count: number;
}

/** Every field of the object and interface types of a supergraph's API schema, by coordinate. */
export function apiFields(supergraphSdl: string): ApiField[] {
  const schema = apiSchemaOf(supergraphSdl);
  const fields: ApiField[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if ((!isObjectType(type) && !isInterfaceType(type)) || isIntrospectionType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      fields.push({ coordinate: `${type.name}.${field.name}`, typeName: type.name, fieldName: field.name, deprecationReason: field.deprecationReason ?? null });
    }
  }
  return fields.sort((a, b) => (a.coordinate < b.coordinate ? -1 : a.coordinate > b.coordinate ? 1 : 0));
}

/** Each field with how often operations used it (0 when none did, or nothing was recorded), most used first. */
export async function countFields(fields: readonly ApiField[], usage: UsageLookup): Promise<FieldCount[]> {
  const counts = fields.length === 0 ? undefined : await usage(fields.map((f) => f.coordinate));
  return fields.map((field) => ({ ...field, count: counts?.get(field.coordinate) ?? 0 })).sort((a, b) => b.count - a.count);
}

/** The listed operations that used each coordinate, most run first (as `operations` is ordered). */
export function operationsByCoordinate(operations: readonly OperationCount[]): Map<string, OperationCount[]> {
  const byCoordinate = new Map<string, OperationCount[]>();
  for (const operation of operations) {
    for (const coordinate of operation.signature.coordinates) {
      const list = byCoordinate.get(coordinate);
      if (list === undefined) byCoordinate.set(coordinate, [operation]);
      else list.push(operation);
    }
  }
  return byCoordinate;
}
