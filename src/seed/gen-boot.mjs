// Worker-thread entry of the message generator. Worker threads do not inherit the parent's tsx
// loader (--import tsx): from dist/ (scripts/build-server.mjs) the compiled worker sits next to
// this file; from src/ this plain module loads the TypeScript worker through tsx's API.
import { existsSync } from 'node:fs';

const compiled = new URL('./gen-worker.js', import.meta.url);
if (existsSync(compiled)) await import(compiled.href);
else await (await import('tsx/esm/api')).tsImport('./gen-worker.ts', import.meta.url);
