import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { Supergraph } from '@apollo/federation-internals';
import { Kind, specifiedRules, validate, type DocumentNode } from 'graphql';

const SRC = new URL('../src/', import.meta.url);

/** Every source file of the console, relative to src/. */
async function sourceFiles(): Promise<string[]> {
  const entries = await readdir(SRC, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => `${e.parentPath.slice(SRC.pathname.length)}/${e.name}`.replace(/^\//, ''))
    .sort();
}

const isDocument = (value: unknown): value is DocumentNode => (value as DocumentNode | null)?.kind === Kind.DOCUMENT;

// The console is a client like any other: it may use the public API and nothing else.
describe("the console's operations", () => {
  it('are written only in operations modules', async () => {
    const elsewhere: string[] = [];
    for (const file of await sourceFiles()) {
      if (file.endsWith('operations.ts')) continue;
      const text = await readFile(new URL(file, SRC), 'utf8');
      if (/\bgraphql\(|\bgql`|\b(query|mutation|subscription)\s+\w+\s*[({]/.test(text)) elsewhere.push(file);
    }
    assert.deepEqual(elsewhere, []);
  });

  it("ask only for the supergraph's public API", async () => {
    const api = Supergraph.build(await readFile(new URL('../../../supergraph/supergraph.graphql', import.meta.url), 'utf8'))
      .apiSchema()
      .toGraphQLJSSchema();
    const modules = (await sourceFiles()).filter((file) => file.endsWith('operations.ts'));
    assert.ok(modules.length >= 4, `found ${modules.join(', ')}`);
    let checked = 0;
    for (const file of modules) {
      const exported = Object.entries(await import(new URL(file, SRC).href)) as [string, unknown][];
      for (const [name, document] of exported) {
        assert.ok(isDocument(document), `${file} exports ${name}, which is not an operation`);
        assert.deepEqual(
          validate(api, document, specifiedRules).map((e) => e.message),
          [],
          `${file}: ${name}`,
        );
        checked += 1;
      }
    }
    assert.ok(checked >= 27, `only ${checked} operations found`);
  });
});
