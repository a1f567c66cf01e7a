// Writes docs/CONFIG.md from the config schema (npm run docs:config). A test checks it is current.
import { writeFileSync } from 'node:fs';
import { configMarkdown } from '../src/config.js';

writeFileSync(new URL('../docs/CONFIG.md', import.meta.url), configMarkdown());
console.log('wrote docs/CONFIG.md');
