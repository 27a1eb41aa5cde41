import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCliChecks } from '@tansu/schema/check/check-all';

const read = (path: string) => readFile(new URL(`../../${path}`, import.meta.url), 'utf8');
const OPERATIONS = fileURLToPath(new URL('../operations/', import.meta.url));

describe('the CI schema check', async () => {
  const baseline = await read('supergraph/supergraph.graphql');
  const sdl = {
    identity: await read('subgraphs/identity/schema.graphql'),
    tenancy: await read('subgraphs/tenancy/schema.graphql'),
    workflow: await read('subgraphs/workflow/schema.graphql'),
    registry: await read('subgraphs/registry/schema.graphql'),
  };

  async function run(subgraphs: { name: string; sdl: string }[]): Promise<{ status: number; out: string }> {
    const lines: string[] = [];
    const status = await runCliChecks({ baseline, from: 'the test baseline', subgraphs, documents: OPERATIONS }, (text) => lines.push(text));
    return { status, out: lines.join('\n') };
  }

  it('passes the subgraphs as committed', async () => {
    const result = await run(Object.entries(sdl).map(([name, text]) => ({ name, sdl: text })));
    assert.equal(result.status, 0, result.out);
    assert.match(result.out, /with 6 registered documents/);
  });

  it('fails a commit that breaks a registered client operation, with the report', async () => {
    const broken = sdl.tenancy.replace('  "Lowercase letters, digits and dashes; used in URLs and sign-in."\n  slug: String!\n', '');
    assert.notEqual(broken, sdl.tenancy, 'the edit applies');
    const result = await run([
      { name: 'identity', sdl: sdl.identity },
      { name: 'tenancy', sdl: broken },
      { name: 'workflow', sdl: sdl.workflow },
    ]);
    assert.equal(result.status, 1);
    assert.match(result.out, /FAIL {2}subgraph tenancy/);
    assert.match(result.out, /BREAKING +Field Tenant\.slug was removed/);
    assert.match(result.out, /me\.graphql: Cannot query field "slug" on type "Tenant"/);
  });

  it('fails when a subgraph disappears', async () => {
    const result = await run([
      { name: 'identity', sdl: sdl.identity },
      { name: 'tenancy', sdl: sdl.tenancy },
    ]);
    assert.equal(result.status, 1);
    assert.match(result.out, /subgraph workflow was removed/);
  });
});
