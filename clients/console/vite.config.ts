import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built into dist/, which the router serves at /console from local files (no network needed).
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: '/console/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  logLevel: 'warn',
});
