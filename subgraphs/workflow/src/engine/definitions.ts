import type { EntityManager } from '@tansu/platform/db/database';
import type { WorkflowSpec } from '../definitions/workflow-definition.ts';

export interface RunDefinition {
  spec: WorkflowSpec;
  name: string;
}

/**
 * The definitions runs are made from, read once per cache: definitions never change once
 * written. One cache serves a whole process (the deployable's wiring creates it).
 */
export function createDefinitionCache(options: { maxEntries?: number } = {}) {
  const maxEntries = options.maxEntries ?? 10_000;
  const cache = new Map<string, RunDefinition>();
  return {
    async get(em: EntityManager, definitionId: string): Promise<RunDefinition | undefined> {
      let definition = cache.get(definitionId);
      if (definition === undefined) {
        const found = await em.execute<RunDefinition[]>(`select spec, name from workflow.definitions where id = ?`, [definitionId]);
        if (found[0] === undefined) return undefined;
        definition = found[0];
        if (cache.size >= maxEntries) cache.clear();
        cache.set(definitionId, definition);
      }
      return definition;
    },
  };
}
export type DefinitionCache = ReturnType<typeof createDefinitionCache>;
