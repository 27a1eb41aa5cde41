import { basename } from 'node:path';
import { TansuError, graphql, type TansuClient } from '@tansu/client';
import { refusalOf, runEach } from '../batch.ts';
import type { Command } from '../command.ts';
import { requireArg, stringOption, type CommandContext } from '../context.ts';
import { table } from '../output.ts';
import { UsageError } from '../prompt.ts';
import { readDefinitions, type DefinitionFile } from './workflow-definitions.ts';

const CREATE = graphql(`
  mutation CliCreateWorkflow($input: CreateWorkflowInput!) {
    createWorkflow(input: $input) {
      id
      name
      version
    }
  }
`);

const START = graphql(`
  mutation CliStartWorkflow($input: StartWorkflowInput!) {
    startWorkflow(input: $input) {
      id
      status
      workflow {
        name
        version
      }
    }
  }
`);

const RUNS = graphql(`
  query CliRuns($first: Int) {
    runs(first: $first) {
      nodes {
        id
        status
        createdAt
        workflow {
          name
          version
        }
      }
    }
  }
`);

const RUN = graphql(`
  query CliRun($id: ID!) {
    run(id: $id) {
      id
      status
      error
      output
      steps {
        id
        status
      }
    }
  }
`);

const RUN_UPDATED = graphql(`
  subscription CliRunUpdated($runId: ID!, $after: String) {
    runUpdated(runId: $runId, after: $after) {
      eventId
      kind
      status
      stepId
      stepStatus
      attempt
      error
    }
  }
`);

const FINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT']);

/**
 * Follows a run live until it ends: each change as a line (or NDJSON), a progress bar of its
 * steps on a terminal. Resolves with the final status.
 */
async function watch(ctx: CommandContext, client: TansuClient, runId: string): Promise<string> {
  const run = (await client.request(RUN, { id: runId })).run;
  if (run === null) throw new TansuError('NOT_FOUND', `Run ${runId} not found`);
  const steps = new Map(run.steps.map((s) => [s.id, s.status as string]));
  const done = () => [...steps.values()].filter((s) => FINAL.has(s)).length;
  if (FINAL.has(run.status)) {
    ctx.out.event({ kind: 'RUN', runId, status: run.status }, () => `run ${runId} ${run.status}`);
    return run.status;
  }
  return new Promise<string>((resolve, reject) => {
    const stop = client.subscribe(
      RUN_UPDATED,
      // From the first event: nothing that happened before the watch began is missed.
      { runId, after: '0' },
      {
        next: ({ runUpdated: event }) => {
          if (event.kind === 'STEP' && event.stepId !== null && event.stepStatus !== null) steps.set(event.stepId, event.stepStatus);
          ctx.out.event(event, () =>
            event.kind === 'STEP'
              ? `step ${event.stepId} ${event.stepStatus}${event.attempt !== null && event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}${event.error === null ? '' : `: ${event.error}`}`
              : `run ${runId} ${event.status}${event.error === null ? '' : `: ${event.error}`}`,
          );
          ctx.out.progress(done(), steps.size, 'steps finished');
          if (event.kind === 'RUN' && event.status !== null && FINAL.has(event.status)) {
            stop();
            resolve(event.status);
          }
        },
        error: reject,
        complete: () => reject(new TansuError('INTERNAL', 'The run feed ended before the run did')),
      },
    );
  });
}

/**
 * `workflows apply FILE|DIR...`: one file answers with its workflow (a refusal exits 1 at
 * once); several, or a folder, are applied in turn with a bar, each refusal listed with its
 * file and code, and the command exits 1 when any was refused.
 */
async function apply(ctx: CommandContext, client: TansuClient): Promise<void> {
  const paths = ctx.args.slice(1);
  if (paths.length === 0) throw new UsageError('Missing the definition file (or a folder of them)');
  const { definitions, several } = await readDefinitions(paths);
  const create = async ({ name, steps }: DefinitionFile) => (await client.request(CREATE, { input: { name, steps } })).createWorkflow;
  if (!several) {
    const created = await create(definitions[0]!);
    ctx.out.result(created, () => `${created.name} version ${created.version}`);
    return;
  }
  const { done, refused } = await runEach(ctx.out, definitions, (d) => `applying ${basename(d.file)}`, create);
  ctx.out.result(
    {
      applied: done.map(({ item, value }) => ({ file: item.file, ...value })),
      refused: refused.map(({ item, error }) => ({ file: item.file, ...refusalOf(error) })),
    },
    () =>
      [
        table(
          ['FILE', 'RESULT'],
          [
            ...done.map(({ item, value }) => [item.file, `${value.name} version ${value.version}`]),
            ...refused.map(({ item, error }) => [item.file, `${error.code}: ${error.message}`]),
          ],
        ),
        `${done.length} applied, ${refused.length} refused`,
      ].join('\n'),
  );
  if (refused.length > 0) process.exitCode = 1;
}

async function run(ctx: CommandContext): Promise<void> {
  const client = await ctx.client();
  try {
    switch (ctx.args[0] ?? 'runs') {
      case 'apply':
        await apply(ctx, client);
        return;
      case 'start': {
        const inputText = stringOption(ctx, 'input');
        let input: unknown;
        try {
          input = inputText === undefined ? undefined : JSON.parse(inputText);
        } catch {
          throw new UsageError('--input must be JSON');
        }
        const { startWorkflow: run } = await client.request(START, { input: { workflow: requireArg(ctx, 1, 'the workflow name'), input } });
        if (ctx.options.watch !== true) {
          ctx.out.result(run, () => `Started run ${run.id} of ${run.workflow.name} v${run.workflow.version}`);
          return;
        }
        ctx.out.info(`Started run ${run.id} of ${run.workflow.name} v${run.workflow.version}`);
        if ((await watch(ctx, client, run.id)) !== 'SUCCEEDED') process.exitCode = 1;
        return;
      }
      case 'watch':
        if ((await watch(ctx, client, requireArg(ctx, 1, 'the run id'))) !== 'SUCCEEDED') process.exitCode = 1;
        return;
      case 'runs': {
        const { runs } = await client.request(RUNS, { first: 20 });
        ctx.out.result(runs.nodes, () =>
          table(
            ['RUN', 'WORKFLOW', 'STATUS', 'CREATED'],
            runs.nodes.map((r) => [r.id, `${r.workflow.name} v${r.workflow.version}`, r.status, r.createdAt]),
          ),
        );
        return;
      }
      default:
        throw new UsageError(`Unknown workflows command ${ctx.args[0]}: apply, start, watch or runs`);
    }
  } finally {
    client.close();
  }
}

export const workflows: Command = {
  name: 'workflows',
  usage: [
    'workflows apply FILE|DIR... | start NAME [--input JSON] [--watch] | watch RUN_ID | runs',
    '                      apply: JSON { "name", "steps" } files, or every *.json of a folder; all are',
    '                      checked first, then each applied (a refusal is listed, the rest still go)',
  ],
  options: { input: { type: 'string' }, watch: { type: 'boolean' } },
  run,
};
