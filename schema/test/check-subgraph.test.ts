import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parse } from 'graphql';
import { checkSubgraph, UnknownSubgraphError, type UsageLookup } from '@tansu/schema/check/check-subgraph';
import { apiSchemaOf, subgraphsOf } from '@tansu/schema/check/compose-variant';
import { operationUsage } from '@tansu/schema/usage/operation-usage';

const supergraph = await readFile(new URL('../../supergraph/supergraph.graphql', import.meta.url), 'utf8');
const published = subgraphsOf(supergraph);
const workflowSdl = await readFile(new URL('../../subgraphs/workflow/schema.graphql', import.meta.url), 'utf8');
const identitySdl = await readFile(new URL('../../subgraphs/identity/schema.graphql', import.meta.url), 'utf8');

/** Usage as the router records it: the coordinates these operations touched, once each. */
function usageOf(...operations: string[]): UsageLookup {
  const schema = apiSchemaOf(supergraph);
  const counts = new Map<string, number>();
  for (const operation of operations)
    for (const coordinate of operationUsage(schema, parse(operation))) counts.set(coordinate, (counts.get(coordinate) ?? 0) + 1);
  return async (coordinates) => new Map(coordinates.map((c) => [c, counts.get(c) ?? 0]));
}

describe('checking a subgraph change against the published graph', () => {
  it('passes an additive change', async () => {
    const report = await checkSubgraph({
      published,
      subgraph: 'identity',
      proposedSdl: identitySdl.replace('  email: String!\n  roles: [Role!]!', '  email: String!\n  displayName: String\n  roles: [Role!]!'),
    });
    assert.equal(report.passed, true, JSON.stringify(report.changes));
    assert.deepEqual(
      report.changes.map((c) => `${c.kind}@${c.coordinate}`),
      ['FIELD_ADDED@User.displayName'],
    );
  });

  it('fails a breaking change when no usage is known, and reports it', async () => {
    const report = await checkSubgraph({
      published,
      subgraph: 'identity',
      proposedSdl: identitySdl.replace(
        '  "Whether the user followed a link sent to their address (or joined by invitation)."\n  emailVerified: Boolean!\n',
        '',
      ),
    });
    assert.equal(report.passed, false);
    assert.ok(report.changes.some((c) => c.kind === 'FIELD_REMOVED' && c.coordinate === 'User.emailVerified'));
    assert.equal(report.usageAware, false);
  });

  it('warns of a breaking change no client used, and fails one a client used', async () => {
    const proposedSdl = identitySdl.replace(
      '  "Whether the user followed a link sent to their address (or joined by invitation)."\n  emailVerified: Boolean!\n',
      '',
    );
    const unused = await checkSubgraph({ published, subgraph: 'identity', proposedSdl, usage: usageOf('{ me { id email } }') });
    assert.equal(unused.passed, true);
    const change = unused.changes.find((c) => c.coordinate === 'User.emailVerified')!;
    assert.deepEqual({ level: change.level, uses: change.uses, unused: change.unused }, { level: 'breaking', uses: 0, unused: true });

    const used = await checkSubgraph({
      published,
      subgraph: 'identity',
      proposedSdl,
      usage: usageOf('{ me { id emailVerified } }', 'query Again { me { emailVerified } }'),
    });
    assert.equal(used.passed, false);
    assert.equal(used.changes.find((c) => c.coordinate === 'User.emailVerified')?.uses, 2);
  });

  it('fails when a registered client operation no longer validates', async () => {
    const proposedSdl = workflowSdl.replace(/\n\s*"[^"\n]*"\n\s*cancelRun\(id: ID!\): Run!/, '').replace(/\n\s*cancelRun\(id: ID!\): Run!/, '');
    assert.notEqual(proposedSdl, workflowSdl, 'the edit applies');
    const report = await checkSubgraph({
      published,
      subgraph: 'workflow',
      proposedSdl,
      usage: usageOf('{ me { id } }'),
      documents: [
        { name: 'CancelRun', document: 'mutation CancelRun($id: ID!) { cancelRun(id: $id) { id status } }' },
        { name: 'Me', document: '{ me { id } }' },
      ],
    });
    assert.equal(report.passed, false);
    assert.deepEqual(
      report.documentErrors.map((d) => d.name),
      ['CancelRun'],
    );
    assert.match(report.documentErrors[0]!.errors[0]!, /cancelRun/);
  });

  it('reports composition errors and unparseable SDL, and refuses an unknown subgraph', async () => {
    const broken = await checkSubgraph({ published, subgraph: 'tenancy', proposedSdl: 'type Query { tenant: Tenant }' });
    assert.equal(broken.passed, false);
    assert.ok(broken.compositionErrors.length > 0);
    const garbage = await checkSubgraph({ published, subgraph: 'tenancy', proposedSdl: 'type Query {' });
    assert.match(garbage.compositionErrors[0]!, /does not parse/);
    await assert.rejects(checkSubgraph({ published, subgraph: 'billing', proposedSdl: 'type Query { x: Int }' }), UnknownSubgraphError);
  });
});
