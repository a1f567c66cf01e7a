// The admin performance page with a real load-test run: a copy of
// docs/reports/2026-11-30-quick-sqlite/ (report.md naming its charts as `![alt](charts/x.svg)`,
// every chart in charts/ as both .svg and .png) served from the server's reports folder
// (NCHAT_REPORTS_DIR). Opened by the workspace owner in Chromium, each chart shows once, as a
// decoded image from a blob: URL, in place (under the heading the report puts it under), with its
// alt text; no `![…](…)` line is left as text and no chart is appended a second time.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { browserSkipReason, newUser, signInWithTokens, startWeb, type WebEnv } from './browser.js';

const SOURCE = join(import.meta.dirname, '..', '..', 'docs', 'reports', '2026-11-30-quick-sqlite');
const RUN = '2026-11-30-quick-sqlite';

/** The report's charts in order: alt text, file, and the heading the chart sits under. */
function chartsOf(md: string): { alt: string; file: string; heading: string }[] {
  const out: { alt: string; file: string; heading: string }[] = [];
  let heading = '';
  for (const line of md.split('\n')) {
    const h = /^#{1,4}\s+(.*)$/.exec(line);
    if (h) heading = h[1].trim();
    const m = /^!\[([^\]]*)\]\((charts\/[^)]+)\)\s*$/.exec(line);
    if (m) out.push({ alt: m[1], file: m[2], heading });
  }
  return out;
}

describe('web client: the admin performance page shows a real run', { skip: browserSkipReason() }, () => {
  let env: WebEnv;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nchat-web-perf-'));
    await cp(SOURCE, join(dir, 'reports', RUN), { recursive: true });
    env = await startWeb({ NCHAT_REPORTS_DIR: join(dir, 'reports') });
  });
  after(async () => {
    await env?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('renders each chart once, as an image in place, and leaves no ![…] text', async () => {
    const charts = chartsOf(await readFile(join(SOURCE, 'report.md'), 'utf8'));
    assert.equal(charts.length, 15, 'the sample report names 15 charts');
    const o = await newUser(env);
    await signInWithTokens(o, env.url, env.server.owner);
    const p = o.page;
    await p.getByRole('button', { name: 'Performance' }).click();
    const dialog = p.getByRole('dialog');
    await dialog.getByRole('listitem').filter({ hasText: RUN }).getByRole('button', { name: 'Open' }).click();
    await dialog.getByRole('heading', { name: 'ɳChat Performance Test Report' }).waitFor({ timeout: 15_000 });
    const report = dialog.locator('.report');

    for (const c of charts) {
      const img = report.getByRole('img', { name: c.alt, exact: true });
      await img.waitFor({ timeout: 20_000 });
      assert.equal(await img.count(), 1, `${c.alt}: shown once`);
      assert.match((await img.getAttribute('src')) ?? '', /^blob:/, c.alt);
      const width = await img.evaluate((el: any) => el.decode().then(() => el.naturalWidth as number));
      assert.ok(width > 0, `${c.alt}: decoded (naturalWidth ${width})`);
      // In place: the nearest heading before the image is the one the report puts it under.
      const under = await img.evaluate((el: any) => {
        const hs = [...el.ownerDocument.querySelectorAll('.report h3, .report h4, .report h5, .report h6')];
        const before = hs.filter((h: any) => h.compareDocumentPosition(el) & 4 /* FOLLOWING */);
        return before.length ? (before[before.length - 1].textContent as string) : '';
      });
      assert.equal(under, c.heading, `${c.alt}: under its heading`);
    }
    // Nothing else: no chart appended at the end, in either format.
    assert.equal(await report.locator('img').count(), charts.length, 'no chart shown twice');
    const text = (await report.locator('.report-md').textContent()) ?? '';
    assert.ok(!text.includes('!['), 'no image line left as text');
    assert.ok(text.includes('Message Latency (p95)'), 'the report text is there');
    // Every file of the run (both formats) is still offered as a download.
    assert.equal(await report.getByRole('button', { name: 'Download' }).count(), 30);
    assert.deepEqual(o.errors, []);
    assert.deepEqual(o.violations, []);
    await o.context.close();
  });
});
