/** A step as stored in a definition: what the graph needs of it. */
export interface GraphStep {
  id: string;
  type: string;
  needs: string[];
}

const BOX_W = 150;
const BOX_H = 44;
const GAP_X = 56;
const GAP_Y = 18;

/** Reads a definition's stored `steps` JSON; anything unexpected is left out rather than drawn wrong. */
export function graphSteps(steps: unknown): GraphStep[] {
  if (!Array.isArray(steps)) return [];
  return steps.flatMap((s: unknown) => {
    const step = s as { id?: unknown; type?: unknown; needs?: unknown };
    if (typeof step.id !== 'string' || typeof step.type !== 'string') return [];
    const needs = Array.isArray(step.needs) ? step.needs.filter((n): n is string => typeof n === 'string') : [];
    return [{ id: step.id, type: step.type, needs }];
  });
}

/** Columns by depth: a step sits one column right of the deepest step it needs (definitions are acyclic). */
function layout(steps: GraphStep[]) {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const depth = new Map<string, number>();
  const depthOf = (id: string, trail: Set<string>): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (trail.has(id)) return 0;
    trail.add(id);
    const needs = byId.get(id)?.needs.filter((n) => byId.has(n)) ?? [];
    const d = needs.length === 0 ? 0 : 1 + Math.max(...needs.map((n) => depthOf(n, trail)));
    depth.set(id, d);
    return d;
  };
  const columns: GraphStep[][] = [];
  for (const step of steps) (columns[depthOf(step.id, new Set())] ??= []).push(step);
  const position = new Map<string, { x: number; y: number }>();
  columns.forEach((column, c) => column.forEach((step, r) => position.set(step.id, { x: c * (BOX_W + GAP_X), y: r * (BOX_H + GAP_Y) })));
  const rows = Math.max(1, ...columns.map((column) => column?.length ?? 0));
  return { position, width: columns.length * (BOX_W + GAP_X) - GAP_X, height: rows * (BOX_H + GAP_Y) - GAP_Y };
}

/** The steps of a workflow and what each waits for, left to right; with statuses, a run's progress. */
export function StepGraph({ steps, statuses }: { steps: GraphStep[]; statuses?: ReadonlyMap<string, string> }) {
  if (steps.length === 0) return null;
  const { position, width, height } = layout(steps);
  return (
    <svg className="step-graph" role="img" aria-label="Step graph" viewBox={`-2 -2 ${width + 4} ${height + 4}`} width={width + 4} height={height + 4}>
      <defs>
        <marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" markerHeight="8" orient="auto">
          <path d="M0 0L8 4L0 8z" fill="#8a929c" />
        </marker>
      </defs>
      {steps.flatMap((step) =>
        step.needs
          .filter((need) => position.has(need))
          .map((need) => {
            const from = position.get(need)!;
            const to = position.get(step.id)!;
            return (
              <path
                key={`${need}->${step.id}`}
                data-edge={`${need}->${step.id}`}
                d={`M${from.x + BOX_W} ${from.y + BOX_H / 2}C${from.x + BOX_W + GAP_X / 2} ${from.y + BOX_H / 2} ${to.x - GAP_X / 2} ${to.y + BOX_H / 2} ${to.x} ${to.y + BOX_H / 2}`}
                fill="none"
                stroke="#8a929c"
                markerEnd="url(#arrow)"
              />
            );
          }),
      )}
      {steps.map((step) => {
        const { x, y } = position.get(step.id)!;
        const status = statuses?.get(step.id);
        return (
          <g key={step.id} data-node={step.id} data-status={status} className={`node status ${status ?? ''}`} transform={`translate(${x} ${y})`}>
            <rect width={BOX_W} height={BOX_H} rx="5" />
            <text x="10" y="18" className="node-id">
              {step.id}
            </text>
            <text x="10" y="35" className="node-type">
              {step.type}
              {status === undefined ? '' : ` · ${status}`}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
