import type { Screen } from '../../shell/screen.ts';
import { SchemaChecksPage } from './pages/checks.tsx';
import { SchemaUsagePage } from './pages/usage.tsx';
import { SchemaVariantsPage } from './pages/variants.tsx';

// The registry is the platform operator's: its screens show to platform administrators.
export const registryScreens: readonly Screen[] = [
  { path: '/schema', title: 'Variants', component: SchemaVariantsPage, platformOnly: true },
  { path: '/schema/checks', title: 'Checks', component: SchemaChecksPage, platformOnly: true },
  { path: '/schema/usage', title: 'Field usage', component: SchemaUsagePage, platformOnly: true },
];
