// Worker-thread entry of a search reader (search-readers.ts). Worker threads do not inherit the
// parent's tsx loader, so this plain module loads the TypeScript reader through tsx's API (the
// same as src/seed/gen-boot.mjs).
import { tsImport } from 'tsx/esm/api';

await tsImport('./search-reader.ts', import.meta.url);
