#!/usr/bin/env node
// Entry point for the `nchat` command: registers tsx's loader, then runs the TypeScript CLI,
// so there is no separate build step and no stale compiled output.
import { register } from 'tsx/esm/api';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

register();
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await import(pathToFileURL(join(root, 'src', 'cli.ts')).href);
