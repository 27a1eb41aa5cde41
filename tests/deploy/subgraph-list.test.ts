import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SUBGRAPHS } from '@tansu/supergraph/subgraphs';

const ROOT = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, ROOT), 'utf8');

/** The compose file's top-level service names and each one's block of lines. */
function composeServices(text: string): Map<string, string> {
  const services = new Map<string, string>();
  const body = text.slice(text.indexOf('\nservices:\n'));
  for (const match of body.matchAll(/^ {2}([a-z0-9-]+):\n((?: {4}.*\n|\s*\n)*)/gm)) services.set(match[1]!, match[2]!);
  return services;
}

describe('the one list of subgraphs', () => {
  it('holds every subgraph folder, and nothing else', () => {
    const folders = readdirSync(new URL('subgraphs/', ROOT), { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(new URL(`subgraphs/${entry.name}/package.json`, ROOT)))
      .map((entry) => entry.name)
      .sort();
    assert.deepEqual(SUBGRAPHS.map((s) => s.name).sort(), folders);
  });

  it("gives each subgraph's main.ts the start function the dev stack runs", async () => {
    for (const subgraph of SUBGRAPHS) {
      const start = await subgraph.start();
      const main = read(`subgraphs/${subgraph.name}/src/main.ts`);
      assert.match(main, new RegExp(`import \\{ ${start.name} \\} from '\\./[a-z-]+\\.ts';`), `${subgraph.name}'s main.ts does not import ${start.name}`);
      assert.match(
        main,
        new RegExp(`runDeployable\\('${subgraph.name}', ${start.name}, \\{ subgraphs: SUBGRAPHS \\}\\)`),
        `${subgraph.name}'s main.ts does not run ${start.name}`,
      );
    }
  });

  it('declares the tables of every subgraph that has migrations', async () => {
    for (const subgraph of SUBGRAPHS) {
      const hasMigrations = existsSync(new URL(`subgraphs/${subgraph.name}/migrations/index.ts`, ROOT));
      assert.equal(subgraph.tables !== undefined, hasMigrations, `${subgraph.name}: migrations/ and the list disagree`);
      if (subgraph.tables !== undefined) assert.ok((await subgraph.tables()).migrations.length > 0);
    }
  });

  it('bakes each default port into the composed URL', () => {
    for (const subgraph of SUBGRAPHS) assert.equal(subgraph.url, `http://127.0.0.1:${subgraph.port}/graphql`);
    assert.equal(new Set(SUBGRAPHS.map((s) => s.port)).size, SUBGRAPHS.length, 'two subgraphs share a port');
  });

  it('has a compose service per subgraph, on its port, that the router is pointed at', () => {
    const compose = read('docker-compose.yml');
    const services = composeServices(compose);
    for (const subgraph of SUBGRAPHS) {
      const service = services.get(subgraph.name);
      assert.ok(service !== undefined, `docker-compose.yml has no ${subgraph.name} service`);
      assert.match(service, new RegExp(`command: \\["node", "subgraphs/${subgraph.name}/src/main\\.ts"\\]`));
      assert.match(service, new RegExp(`- "${subgraph.port}"`));
      assert.ok(
        compose.includes(`${subgraph.name.toUpperCase()}_URL: http://${subgraph.name}:${subgraph.port}\n`),
        `the router is not pointed at ${subgraph.name}`,
      );
    }
    const subgraphServices = [...services].filter(([, block]) => /subgraphs\/[a-z-]+\/src\/main\.ts/.test(block)).map(([name]) => name);
    assert.deepEqual(subgraphServices.sort(), SUBGRAPHS.map((s) => s.name).sort());
  });
});
