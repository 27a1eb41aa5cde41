import { runDeployable } from '@tansu/platform/run-deployable';
import { startWorkers } from './start-workers.ts';

// Its /health listens on PORT.
await runDeployable('workers', (options) => startWorkers(options));
