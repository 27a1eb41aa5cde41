import { watchRuns } from './run-watcher.ts';

// node clients/examples/run-watcher/src/main.ts — with TANSU_URL, TANSU_TENANT, TANSU_EMAIL, TANSU_PASSWORD.
const need = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') {
    console.error(`Set ${name} (TANSU_URL, e.g. http://localhost:4000/graphql; TANSU_TENANT; TANSU_EMAIL; TANSU_PASSWORD)`);
    process.exit(2);
  }
  return value;
};

try {
  const stop = await watchRuns({
    url: need('TANSU_URL'),
    tenant: need('TANSU_TENANT'),
    email: need('TANSU_EMAIL'),
    password: need('TANSU_PASSWORD'),
    onLine: (line) => console.log(line),
    onError: (error) => {
      console.error(error.message);
      process.exit(1);
    },
  });
  process.once('SIGINT', () => {
    stop();
    process.exit(0);
  });
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
