// Worker-thread entry of the message generator. Worker threads do not inherit the parent's tsx
// loader (--import tsx), so this plain module loads the TypeScript worker through tsx's API.
import { tsImport } from 'tsx/esm/api';

await tsImport('./gen-worker.ts', import.meta.url);
