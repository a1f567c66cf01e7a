// The app shell's initial JavaScript stays within its budget (issue 13: ≤ 300 KB gzipped). The
// figure is printed so CI logs show it (scripts/web-size.mjs measures: every script and
// modulepreload index.html loads, gzip level 9).
import { it } from 'node:test';
import assert from 'node:assert/strict';
// @ts-expect-error plain ESM script without types
import { ensureWeb } from '../../scripts/ensure-web.mjs';
// @ts-expect-error plain ESM script without types
import { BUDGET_BYTES, initialJs } from '../../scripts/web-size.mjs';

it('the web client builds and its initial JS is within 300 KB gzipped', () => {
  assert.equal(ensureWeb({ quiet: true }), 0, 'vite build failed');
  const r = initialJs(new URL('../../web/dist', import.meta.url).pathname) as { gzip: number; raw: number; files: { src: string }[] };
  console.log(
    `web client initial JS: ${(r.gzip / 1024).toFixed(1)} KB gzipped, ${(r.raw / 1024).toFixed(1)} KB raw, ${r.files.length} file(s)`,
  );
  assert.ok(r.files.length >= 1, 'index.html loads at least one script');
  assert.ok(r.gzip <= BUDGET_BYTES, `${r.gzip} bytes gzipped > budget ${BUDGET_BYTES}`);
});
