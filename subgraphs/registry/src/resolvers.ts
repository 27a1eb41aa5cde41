import type { SubgraphContext } from '@tansu/platform/graphql/subgraph-server';
import type { CheckedChange } from '@tansu/schema/check/check-subgraph';
import type { StoredCheck, SubgraphVersion } from '@tansu/schema/registry/registry-reads';
import type { OperationCount } from '@tansu/schema/registry/usage-store';
import type { FieldUsageView, RegistryService, VariantView } from './registry-service.ts';

type Args = Record<string, unknown>;

const publishedSubgraphView = (version: SubgraphVersion) => ({
  name: version.subgraph,
  url: version.url,
  versionId: version.id,
  publishedAt: version.publishedAt.toISOString(),
  publishedBy: version.publishedBy,
  sdlHash: version.sdlHash,
});

const versionView = (version: SubgraphVersion) => ({ ...version, publishedAt: version.publishedAt.toISOString() });

const LEVEL_ORDER = { breaking: 0, dangerous: 1, safe: 2 } as const;

const changeView = (change: CheckedChange) => ({
  kind: change.kind,
  level: change.level.toUpperCase(),
  coordinate: change.coordinate,
  message: change.message,
  blocking: change.level === 'breaking' && change.unused !== true,
  uses: change.uses ?? null,
  operations: change.operations ?? null,
});

const checkView = (check: StoredCheck) => ({
  id: check.id,
  variant: check.variant,
  subgraph: check.subgraph,
  passed: check.passed,
  sdlHash: check.sdlHash,
  createdAt: check.createdAt.toISOString(),
  report: {
    compositionErrors: check.report.compositionErrors,
    changes: [...check.report.changes]
      .sort((a, b) => LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] || (a.coordinate < b.coordinate ? -1 : a.coordinate > b.coordinate ? 1 : 0))
      .map(changeView),
    documentErrors: check.report.documentErrors,
    usageAware: check.report.usageAware,
  },
});

const operationView = (operation: OperationCount) => ({
  id: operation.id,
  name: operation.signature.name,
  count: operation.count,
  coordinates: operation.signature.coordinates,
});

export function createRegistryResolvers(service: RegistryService) {
  return {
    Query: {
      schemaVariants: async (_: unknown, __: Args, ctx: SubgraphContext) =>
        (await service.variants(ctx.caller)).map((variant: VariantView) => ({
          name: variant.name,
          served: variant.served,
          supergraphId: variant.supergraphId,
          publishedAt: variant.publishedAt?.toISOString() ?? null,
          subgraphs: variant.subgraphs.map(publishedSubgraphView),
          documentCount: variant.documentCount,
        })),
      schemaChecks: async (_: unknown, args: Args, ctx: SubgraphContext) => {
        const page = await service.checks(ctx.caller, { variant: args.variant, subgraph: args.subgraph, first: args.first, after: args.after });
        return { ...page, nodes: page.nodes.map(checkView) };
      },
      schemaVersions: async (_: unknown, args: Args, ctx: SubgraphContext) => {
        const page = await service.versions(ctx.caller, { variant: args.variant, subgraph: args.subgraph, first: args.first, after: args.after });
        return { ...page, nodes: page.nodes.map(versionView) };
      },
      schemaUsage: (_: unknown, args: Args, ctx: SubgraphContext) => service.usage(ctx.caller, { variant: args.variant, days: args.days }),
      schemaOperations: async (_: unknown, args: Args, ctx: SubgraphContext) =>
        (await service.operations(ctx.caller, { variant: args.variant, days: args.days })).map(operationView),
    },
    FieldUsage: {
      isDeprecated: (field: FieldUsageView) => field.deprecationReason !== null,
      operations: async (field: FieldUsageView) => (await field.operations()).map(operationView),
    },
  };
}
