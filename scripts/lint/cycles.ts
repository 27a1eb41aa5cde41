import type { ImportGraph } from './types.ts';

/** Tarjan's algorithm, iterative so deep import chains cannot overflow the stack. Components come out in reverse topological order. */
export function stronglyConnectedComponents(nodes: readonly string[], successors: (node: string) => readonly string[]): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  for (const start of nodes) {
    if (index.has(start)) continue;
    const work: { node: string; next: number; succ: readonly string[] }[] = [];
    const enter = (node: string): void => {
      index.set(node, counter);
      low.set(node, counter);
      counter++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, next: 0, succ: successors(node) });
    };
    enter(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      if (frame.next < frame.succ.length) {
        const next = frame.succ[frame.next++]!;
        if (!index.has(next)) enter(next);
        else if (onStack.has(next)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(next)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component.sort());
      }
    }
  }
  return components;
}

/** Edges that exist at run time: `import type` / `export type` are erased by type stripping, so they cannot close a loop. */
export function runtimeEdges(graph: ImportGraph): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const module of graph.modules.values()) {
    const targets = new Set<string>();
    for (const ref of module.imports) if (ref.internal && !ref.typeOnly && ref.target !== null) targets.add(ref.target);
    edges.set(module.file, [...targets].sort());
  }
  return edges;
}

/**
 * One concrete cycle per strongly connected component (the shortest one through its first
 * file), as a path that starts and ends on the same file; plus the component size, since a
 * large component hides more loops than the one printed.
 */
export function findCycles(edges: ReadonlyMap<string, readonly string[]>): { path: string[]; componentSize: number }[] {
  const nodes = [...edges.keys()].sort();
  const successors = (node: string): readonly string[] => (edges.get(node) ?? []).filter((target) => edges.has(target));
  const cycles: { path: string[]; componentSize: number }[] = [];
  for (const component of stronglyConnectedComponents(nodes, successors)) {
    const start = component[0]!;
    if (component.length === 1 && !successors(start).includes(start)) continue;
    const members = new Set(component);
    const previous = new Map<string, string>();
    const queue = [start];
    let closing: string | undefined;
    search: for (let i = 0; i < queue.length; i++) {
      const node = queue[i]!;
      for (const next of successors(node)) {
        if (!members.has(next)) continue;
        if (next === start) {
          closing = node;
          break search;
        }
        if (previous.has(next)) continue;
        previous.set(next, node);
        queue.push(next);
      }
    }
    const back: string[] = [];
    for (let node = closing; node !== undefined && node !== start; node = previous.get(node)) back.push(node);
    cycles.push({ path: [start, ...back.reverse(), start], componentSize: component.length });
  }
  return cycles.sort((a, b) => a.path[0]!.localeCompare(b.path[0]!));
}
