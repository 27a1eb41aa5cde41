import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSchema } from 'graphql';
import { diffSchemas } from '@tansu/schema/diff/schema-diff';

const BASE = `
  type Query { user(id: ID!, verbose: Boolean): User  users(first: Int = 10): [User!]!  search(filter: Filter): [Result!]! }
  type Mutation { setRole(input: RoleInput!): User! }
  interface Node { id: ID! }
  type User implements Node { id: ID!  name: String!  email: String  role: Role!  tags: [String!]! }
  type Team implements Node { id: ID!  title: String }
  union Result = User | Team
  enum Role { OWNER ADMIN VIEWER }
  enum Order { ASC DESC }
  input Filter { text: String  order: Order  limit: Int = 20 }
  input RoleInput { userId: ID!  role: Role! }
`;

/** The changes between BASE and BASE with one edit, as kind:level@coordinate strings. */
function changesAfter(edit: (sdl: string) => string): string[] {
  return diffSchemas(buildSchema(BASE), buildSchema(edit(BASE))).map((c) => `${c.kind}:${c.level}@${c.coordinate}`);
}

describe('breaking-change detection', () => {
  const breaking: [string, (sdl: string) => string, string][] = [
    [
      'a removed type',
      (s) => s.replace('type Team implements Node { id: ID!  title: String }', '').replace('union Result = User | Team', 'union Result = User'),
      'TYPE_REMOVED:breaking@Team',
    ],
    ['a removed field', (s) => s.replace('  email: String', ''), 'FIELD_REMOVED:breaking@User.email'],
    ['a removed argument', (s) => s.replace(', verbose: Boolean', ''), 'ARGUMENT_REMOVED:breaking@Query.user(verbose:)'],
    ['a removed enum value', (s) => s.replace('enum Role { OWNER ADMIN VIEWER }', 'enum Role { OWNER VIEWER }'), 'ENUM_VALUE_REMOVED:breaking@Role.ADMIN'],
    ['an output field made nullable', (s) => s.replace('name: String!', 'name: String'), 'FIELD_NULLABILITY_LOOSENED:breaking@User.name'],
    ['an output field of another type', (s) => s.replace('email: String', 'email: Int'), 'FIELD_TYPE_CHANGED:breaking@User.email'],
    ['a list field made a single value', (s) => s.replace('tags: [String!]!', 'tags: String!'), 'FIELD_TYPE_CHANGED:breaking@User.tags'],
    ['an argument made required', (s) => s.replace('verbose: Boolean', 'verbose: Boolean!'), 'ARGUMENT_NULLABILITY_TIGHTENED:breaking@Query.user(verbose:)'],
    ['an argument of another type', (s) => s.replace('first: Int = 10', 'first: String'), 'ARGUMENT_TYPE_CHANGED:breaking@Query.users(first:)'],
    [
      'a required argument added',
      (s) => s.replace('search(filter: Filter)', 'search(filter: Filter, tenant: ID!)'),
      'REQUIRED_ARGUMENT_ADDED:breaking@Query.search(tenant:)',
    ],
    ['an input field made required', (s) => s.replace('text: String  order', 'text: String!  order'), 'INPUT_FIELD_NULLABILITY_TIGHTENED:breaking@Filter.text'],
    ['a removed input field', (s) => s.replace('  limit: Int = 20', ''), 'INPUT_FIELD_REMOVED:breaking@Filter.limit'],
    [
      'a required input field added',
      (s) => s.replace('role: Role! }', 'role: Role!  reason: String! }'),
      'REQUIRED_INPUT_FIELD_ADDED:breaking@RoleInput.reason',
    ],
    ['a union member removed', (s) => s.replace('union Result = User | Team', 'union Result = User'), 'UNION_MEMBER_REMOVED:breaking@Result'],
    ['an interface no longer implemented', (s) => s.replace('type Team implements Node {', 'type Team {'), 'INTERFACE_REMOVED:breaking@Team'],
    ['a type changing kind', (s) => s.replace('enum Order { ASC DESC }', 'scalar Order'), 'TYPE_KIND_CHANGED:breaking@Order'],
  ];
  for (const [what, edit, expected] of breaking) {
    it(`catches ${what}`, () => assert.ok(changesAfter(edit).includes(expected), `${expected} not in ${JSON.stringify(changesAfter(edit))}`));
  }

  const safe: [string, (sdl: string) => string][] = [
    ['an added optional field', (s) => s.replace('  email: String', '  email: String\n  avatar: String')],
    ['an added optional argument', (s) => s.replace('users(first: Int = 10)', 'users(first: Int = 10, after: String)')],
    ['an added optional input field', (s) => s.replace('limit: Int = 20 }', 'limit: Int = 20  offset: Int }')],
    ['an added value of an input-only enum', (s) => s.replace('enum Order { ASC DESC }', 'enum Order { ASC DESC RANDOM }')],
    ['a deprecation', (s) => s.replace('  email: String', '  email: String @deprecated(reason: "use contact")')],
    ['an output field made non-null', (s) => s.replace('email: String', 'email: String!')],
    ['a required argument made optional', (s) => s.replace('user(id: ID!', 'user(id: ID')],
    ['an added type', (s) => `${s}\n type Audit { id: ID! }`],
  ];
  for (const [what, edit] of safe) {
    it(`lets ${what} pass`, () => {
      const levels = diffSchemas(buildSchema(BASE), buildSchema(edit(BASE))).map((c) => c.level);
      assert.ok(levels.length > 0, 'the change was seen');
      assert.ok(
        levels.every((l) => l === 'safe'),
        JSON.stringify(changesAfter(edit)),
      );
    });
  }

  it('flags what may surprise a client without breaking it as dangerous', () => {
    assert.ok(
      changesAfter((s) => s.replace('enum Role { OWNER ADMIN VIEWER }', 'enum Role { OWNER ADMIN VIEWER GUEST }')).includes(
        'ENUM_VALUE_ADDED:dangerous@Role.GUEST',
      ),
      'a value of an enum clients read',
    );
    assert.ok(
      changesAfter((s) =>
        s
          .replace('type Team implements Node { id: ID!  title: String }', 'type Team implements Node { id: ID!  title: String }\n type Bot { id: ID! }')
          .replace('union Result = User | Team', 'union Result = User | Team | Bot'),
      ).includes('UNION_MEMBER_ADDED:dangerous@Result'),
    );
    assert.ok(changesAfter((s) => s.replace('first: Int = 10', 'first: Int = 50')).includes('ARGUMENT_DEFAULT_CHANGED:dangerous@Query.users(first:)'));
  });

  it('catches a default removed from a non-null argument or input field (it becomes required)', () => {
    const before = BASE.replace('users(first: Int = 10)', 'users(first: Int! = 10)').replace('limit: Int = 20', 'limit: Int! = 20');
    const after = before.replace('users(first: Int! = 10)', 'users(first: Int!)').replace('limit: Int! = 20', 'limit: Int!');
    const found = diffSchemas(buildSchema(before), buildSchema(after)).map((c) => `${c.kind}:${c.level}@${c.coordinate}`);
    assert.deepEqual(found.sort(), ['ARGUMENT_DEFAULT_REMOVED:breaking@Query.users(first:)', 'INPUT_FIELD_DEFAULT_REMOVED:breaking@Filter.limit']);
  });

  it('finds nothing between a schema and itself', () => {
    assert.deepEqual(diffSchemas(buildSchema(BASE), buildSchema(BASE)), []);
  });
});
