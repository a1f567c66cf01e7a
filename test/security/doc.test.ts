// docs/SECURITY.md cannot drift from the matrix: its routes table is exactly what
// test/security/doc.ts renders from test/security/matrix.ts, every security test file is named
// in it, and every test file it names exists.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DOC, withMatrix } from './doc.js';

const root = join(import.meta.dirname, '..', '..');
const doc = readFileSync(DOC, 'utf8');

describe('docs/SECURITY.md', () => {
  it('the routes table is the one generated from test/security/matrix.ts', () => {
    assert.ok(doc === withMatrix(doc), 'docs/SECURITY.md is stale: run `node --import tsx test/security/doc.ts --write`');
  });

  it('names every test file of test/security', () => {
    const files = readdirSync(join(root, 'test', 'security')).filter((f) => f.endsWith('.test.ts') && f !== 'doc.test.ts');
    assert.deepEqual(
      files.filter((f) => !doc.includes(`test/security/${f}`)),
      [],
    );
  });

  it('every test file it names exists', () => {
    const named = [...doc.matchAll(/`((?:test|src)\/[\w./-]+\.test\.ts)`/g)].map((m) => m[1]);
    assert.ok(named.length > 10);
    assert.deepEqual(
      named.filter((p) => !existsSync(join(root, p))),
      [],
    );
  });
});
