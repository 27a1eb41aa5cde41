import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  misusedPlaceholder,
  parseReference,
  referencesIn,
  resolveMapping,
  resolveReference,
  type MappingScope,
} from '@tansu/subgraph-workflow/definitions/mapping';

function scope(): MappingScope {
  return {
    input: {
      a: { b: 42 },
      obj: { k: 'v', n: [1, 2] },
      name: 'Ada',
      flag: false,
      zero: 0,
      empty: '',
      nothing: null,
      items: [{ id: 'x' }, { id: 'y' }, { id: 'z' }],
    },
    steps: { s1: { output: { items: [{ id: 10 }, { id: 20 }, { id: 30 }], total: 3 } } },
    run: { id: 'run-1' },
  };
}

describe('parseReference', () => {
  it('splits a dotted input path into root and path', () => {
    assert.deepEqual(parseReference('$.input.a.b'), { root: 'input', path: ['a', 'b'] });
  });

  it('splits array indexes into their own path parts', () => {
    assert.deepEqual(parseReference('$.steps.s1.output.items[2].id'), { root: 'steps', path: ['s1', 'output', 'items', '2', 'id'] });
  });

  it('accepts a bare root, dashes and underscores', () => {
    assert.deepEqual(parseReference('$.input'), { root: 'input', path: [] });
    assert.deepEqual(parseReference('$.run.id'), { root: 'run', path: ['id'] });
    assert.deepEqual(parseReference('$.steps.fetch-user.output.first_name'), { root: 'steps', path: ['fetch-user', 'output', 'first_name'] });
    assert.deepEqual(parseReference('$.input.matrix[0][1]'), { root: 'input', path: ['matrix', '0', '1'] });
  });

  it('rejects anything that is not a plain reference', () => {
    for (const text of ['input.a', '$.', '$', '$.a..b', '$.a.', '$.a[x]', '$.a[-1]', '$.a b', ' $.a', '$.a ', '$.1a', '{{ $.a }}', '$.a.b[1', '']) {
      assert.equal(parseReference(text), undefined, text);
    }
  });
});

describe('referencesIn', () => {
  it('finds whole-string references and template references in nested objects and arrays', () => {
    const mapping = {
      a: '$.input.x',
      b: [1, { c: 'hello {{ $.steps.s1.output.y }} and {{$.run.id}}' }, ['$.input.list[0]']],
      d: null,
      e: 5,
      f: true,
      g: 'plain text',
    };
    assert.deepEqual(referencesIn(mapping), ['$.input.x', '$.steps.s1.output.y', '$.run.id', '$.input.list[0]']);
  });

  it('finds nothing in literals', () => {
    assert.deepEqual(referencesIn({ a: 'no refs', b: [1, 2, { c: 'x { $.y }' }], d: null }), []);
    assert.deepEqual(referencesIn(42), []);
    assert.deepEqual(referencesIn(null), []);
  });

  it('reports a string starting with $. even when it is not a valid reference, so validation can reject it', () => {
    assert.deepEqual(referencesIn('$.not valid'), ['$.not valid']);
  });
});

describe('resolveMapping', () => {
  it('keeps the type of a whole-string reference', () => {
    const s = scope();
    assert.equal(resolveMapping('$.input.a.b', s), 42);
    assert.deepEqual(resolveMapping('$.input.obj', s), { k: 'v', n: [1, 2] });
    assert.deepEqual(resolveMapping('$.input.items', s), [{ id: 'x' }, { id: 'y' }, { id: 'z' }]);
    assert.equal(resolveMapping('$.input.name', s), 'Ada');
    assert.equal(resolveMapping('$.run.id', s), 'run-1');
  });

  it('keeps falsy values instead of turning them into null', () => {
    const s = scope();
    assert.equal(resolveMapping('$.input.flag', s), false);
    assert.equal(resolveMapping('$.input.zero', s), 0);
    assert.equal(resolveMapping('$.input.empty', s), '');
  });

  it('renders templates: strings as-is, numbers and objects as JSON, missing values as empty', () => {
    const s = scope();
    assert.equal(resolveMapping('Hi {{ $.input.name }}!', s), 'Hi Ada!');
    assert.equal(resolveMapping('n={{$.input.a.b}}', s), 'n=42');
    assert.equal(resolveMapping('o={{ $.input.obj }}', s), 'o={"k":"v","n":[1,2]}');
    assert.equal(resolveMapping('f={{ $.input.flag }}', s), 'f=false');
    assert.equal(resolveMapping('x{{ $.input.nope }}y', s), 'xy');
    assert.equal(resolveMapping('x{{ $.input.nothing }}y', s), 'xy');
    assert.equal(resolveMapping('{{ $.input.name }}/{{ $.steps.s1.output.total }}/{{ $.run.id }}', s), 'Ada/3/run-1');
  });

  it('turns unresolved references into null', () => {
    const s = scope();
    assert.equal(resolveMapping('$.input.nope', s), null);
    assert.equal(resolveMapping('$.input.a.b.c', s), null); // through a number
    assert.equal(resolveMapping('$.input.name.first', s), null); // through a string
    assert.equal(resolveMapping('$.steps.s9.output', s), null);
    assert.equal(resolveMapping('$.unknownRoot.x', s), null);
    assert.deepEqual(resolveMapping({ a: '$.input.nope', b: ['$.input.missing'] }, s), { a: null, b: [null] });
  });

  it('leaves literals untouched', () => {
    const s = scope();
    assert.equal(resolveMapping('plain', s), 'plain');
    assert.equal(resolveMapping('price: $.5', s), 'price: $.5');
    assert.equal(resolveMapping('$.5', s), '$.5'); // starts like a reference but is not one
    assert.equal(resolveMapping('{ $.input.name }', s), '{ $.input.name }');
    assert.equal(resolveMapping(7, s), 7);
    assert.equal(resolveMapping(true, s), true);
    assert.equal(resolveMapping(null, s), null);
    assert.deepEqual(resolveMapping({ a: 1, b: ['x', { c: false }] }, s), { a: 1, b: ['x', { c: false }] });
  });

  it('resolves inside nested objects and arrays without changing the mapping', () => {
    const s = scope();
    const mapping = { user: { name: '$.input.name', greeting: 'hi {{ $.input.name }}' }, list: ['$.input.a.b', 'lit', { x: '$.run.id' }] };
    const before = structuredClone(mapping);
    assert.deepEqual(resolveMapping(mapping, s), { user: { name: 'Ada', greeting: 'hi Ada' }, list: [42, 'lit', { x: 'run-1' }] });
    assert.deepEqual(mapping, before);
  });

  it('never reads prototypes below the root', () => {
    const s = scope();
    for (const text of [
      '$.input.__proto__',
      '$.input.constructor',
      '$.input.obj.toString',
      '$.input.obj.hasOwnProperty',
      '$.input.items.constructor',
      '$.input.__proto__.constructor',
      '$.steps.s1.output.constructor',
      '$.run.__proto__',
    ]) {
      assert.equal(resolveMapping(text, s), null, text);
      assert.equal(resolveReference(s, text), undefined, text);
    }
    assert.equal(resolveMapping('a{{ $.input.constructor }}b', s), 'ab');
    assert.equal(resolveMapping('a{{ $.input.__proto__ }}b', s), 'ab');
  });

  it('never reads prototypes at the root either', () => {
    const s = scope();
    for (const text of ['$.constructor', '$.__proto__', '$.toString', '$.hasOwnProperty']) {
      assert.equal(resolveMapping(text, s), null, text);
    }
  });

  it('keeps an output key named __proto__ as a key, not a prototype', () => {
    const mapping = JSON.parse('{"__proto__": {"polluted": true}, "ok": "$.input.name"}') as unknown;
    const out = resolveMapping(mapping, scope()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(out), ['__proto__', 'ok']);
    assert.equal(JSON.stringify(out), '{"__proto__":{"polluted":true},"ok":"Ada"}');
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
  });

  it('reads arrays by index', () => {
    const s = scope();
    assert.equal(resolveMapping('$.input.items[1].id', s), 'y');
    assert.deepEqual(resolveMapping('$.input.items[0]', s), { id: 'x' });
    assert.equal(resolveMapping('$.steps.s1.output.items[2].id', s), 30);
    assert.equal(resolveMapping('$.input.obj.n[1]', s), 2);
    assert.equal(resolveMapping('$.input.items[5].id', s), null);
    assert.equal(resolveMapping('id={{ $.input.items[2].id }}', s), 'id=z');
  });
});

describe('misusedPlaceholder', () => {
  it('finds placeholders meant as references that would stay literal', () => {
    for (const [text, found] of [
      ['hi {{ input.name }}', '{{ input.name }}'],
      ['{{steps.a.output}}', '{{steps.a.output}}'],
      ['{{ run.id }}', '{{ run.id }}'],
      ['{{ $.input.name | upper }}', '{{ $.input.name | upper }}'],
      ['{{ $input.name }}', '{{ $input.name }}'],
      ['ok {{ $.input.a }} then {{ $.input..b }}', '{{ $.input..b }}'],
    ] as const) {
      assert.equal(misusedPlaceholder(text), found, text);
    }
  });

  it("leaves real references and other systems' placeholders alone", () => {
    for (const text of [
      '{{ $.input.name }}',
      '{{$.steps.s1.output.items[2].id}}',
      'Dear {{name}}',
      '{{ greeting }} {{ inputs }}',
      'no braces',
      '{ $.input.name }',
    ]) {
      assert.equal(misusedPlaceholder(text), undefined, text);
    }
  });
});
