// No import cycles in src/, bench/ or test/, type-only imports included (scripts/check-cycles.ts).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_DIRS, findCycles, importGraph, specifiersOf } from '../../scripts/check-cycles.js';

test('no import cycle among the modules of src/, bench/ and test/ (type-only imports count)', () => {
  const g = importGraph(DEFAULT_DIRS);
  // The graph is real: a few edges known to exist are found (a parser that found nothing would pass).
  assert.ok(g.edges.size > 100, `only ${g.edges.size} modules found`);
  assert.ok(g.edges.get('src/loadtest/registry.ts')?.has('src/loadtest/scenarios/ws.ts'), 'registry → scenarios/ws edge');
  assert.ok(g.edges.get('src/loadtest/scenarios/ws.ts')?.has('src/loadtest/scenario.ts'), 'type-only edge scenarios/ws → scenario');
  const cycles = findCycles(g);
  assert.deepEqual(
    cycles.map((c) => c.join(' → ')),
    [],
    'import cycles (break each by moving the shared part into its own module)',
  );
});

test('the checker finds type-only, re-export, multi-line and index cycles, and ignores comments and strings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nchat-cycles-'));
  try {
    mkdirSync(join(dir, 'src', 'pkg'), { recursive: true });
    const w = (p: string, s: string) => writeFileSync(join(dir, 'src', p), s);
    w('a.ts', "import type { B } from './b.js';\nexport interface A { b: B }\n");
    w('b.ts', "import {\n  type A,\n} from './a.js';\nexport type B = A[];\n");
    w('c.ts', "export * from './pkg';\n");
    w('pkg/index.ts', "export { c } from '../d.js';\n");
    w('d.ts', "// import { x } from './c.js';\nconst s = \"import './c.js'\";\nexport const c = s;\nexport type T = import('./e.js').E;\n");
    w('e.ts', "import './d.js';\nexport type E = number;\n");
    w('f.ts', "import { readFileSync } from 'node:fs';\nimport { c } from './d.js';\nexport const f = [readFileSync, c];\n");
    const cycles = findCycles(importGraph(['src'], dir));
    assert.deepEqual(cycles, [
      ['src/a.ts', 'src/b.ts', 'src/a.ts'],
      ['src/d.ts', 'src/e.ts', 'src/d.ts'],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('specifiersOf: every import and re-export form', () => {
  const src = [
    "import a from 'x1';",
    "import type { B } from './x2.js';",
    'import * as c from "./x3.js";',
    "import './x4.js';",
    "export { d } from './x5.js';",
    "export type { E } from './x6.js';",
    "export * from './x7.js';",
    'const f = await import("./x8.js");',
    "const url = 'http://example.com/'; // import { g } from './no.js'",
    '/* export * from "./no2.js" */',
  ].join('\n');
  assert.deepEqual(specifiersOf(src).sort(), ['./x2.js', './x3.js', './x4.js', './x5.js', './x6.js', './x7.js', './x8.js', 'x1']);
});
