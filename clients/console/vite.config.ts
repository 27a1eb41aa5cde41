import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built into dist/, which the router serves at /console from local files (no network needed).
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // GraphiQL's editor is one large chunk, loaded only by its screen.
    chunkSizeWarningLimit: 2_500,
    rolldownOptions: {
      // Libraries' "use client" markers mean nothing in a bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  logLevel: 'warn',
});
