// Worker-thread entry of a search reader (search-readers.ts). Worker threads do not inherit the
// parent's tsx loader: from dist/ (scripts/build-server.mjs) the compiled reader sits next to this
// file; from src/ this plain module loads the TypeScript reader through tsx's API (the same as
// src/seed/gen-boot.mjs).
import { existsSync } from 'node:fs';

const compiled = new URL('./search-reader.js', import.meta.url);
if (existsSync(compiled)) await import(compiled.href);
else await (await import('tsx/esm/api')).tsImport('./search-reader.ts', import.meta.url);
