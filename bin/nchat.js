#!/usr/bin/env node
// Entry point for the `nchat` command: loads the TypeScript CLI through tsx's ESM loader,
// so there is no separate build step and no stale compiled output.
import { register } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
register('tsx/esm', pathToFileURL(join(root, 'package.json')));
await import(pathToFileURL(join(root, 'src', 'cli.ts')).href);
