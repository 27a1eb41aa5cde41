import { parseArgs } from 'node:util';
import { failStartup } from '@tansu/platform/lifecycle';
import { runDeployable } from '@tansu/platform/run-deployable';
import { SUBGRAPHS } from '@tansu/supergraph/subgraphs';
import { startRouter } from './start-router.ts';

const USAGE = `Usage: node router/src/main.ts [--supergraph PATH] [--port N] [--host H] [--no-auth]

Without --supergraph the router serves the Tansu platform (supergraph/supergraph.graphql).
With --supergraph it fronts any Federation 2 supergraph, using the subgraph URLs in the file.
Authentication stays on unless --no-auth is given.`;

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        supergraph: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'no-auth': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    return failStartup(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  }
})();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (values.port !== undefined) process.env.PORT = values.port;
if (values.host !== undefined) process.env.HOST = values.host;
await runDeployable('router', (options) => startRouter(options, { supergraphPath: values.supergraph, noAuth: values['no-auth'] }), { subgraphs: SUBGRAPHS });
