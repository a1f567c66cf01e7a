// The web client's build (vite build → web/dist, served by src/server/http/web.ts) and its
// component tests (vitest + jsdom, web/src/**/*.test.tsx). The client imports types from
// ../src/protocol (erased at build time), so nothing from the server reaches the bundle.
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  plugins: [react()],
  // Hashed file names under /assets/: the server gives them a long immutable cache.
  build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'assets', sourcemap: false, target: 'es2022' },
  server: { proxy: { '/api': 'http://127.0.0.1:3000', '/ws': { target: 'ws://127.0.0.1:3000', ws: true } } },
  test: { environment: 'jsdom', include: ['src/**/*.test.{ts,tsx}'], root: here },
});
