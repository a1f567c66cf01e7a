#!/usr/bin/env node
// Entry point for the `nchat` command. `nchat serve` runs the compiled server in dist/ when it is
// up to date with src/ (scripts/build-server.mjs; `npm start` builds it first): ~36 MB less RSS
// than through tsx's loader. Every other command, and `serve` without a fresh build, registers
// tsx's loader and runs the TypeScript CLI, so there is no stale compiled output.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { serverIsStale } from '../scripts/build-server.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.argv[2] === 'serve' && !serverIsStale()) {
  await import(pathToFileURL(join(root, 'dist', 'cli.js')).href);
} else {
  (await import('tsx/esm/api')).register();
  await import(pathToFileURL(join(root, 'src', 'cli.ts')).href);
}
