// Files and search in the browser: an image picked in the composer uploads with progress, is sent
// with the message and shows as a thumbnail (fetched with the bearer token, shown from a blob:
// URL) that opens a larger view; another file shows as a download card. Search finds an older
// message (not loaded yet), highlights the match and jumps to it in its channel.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { type TestUser, unique } from '../helpers/server.js';
import { browserSkipReason, newUser, send, signInWithTokens, startWeb, type Watched, type WebEnv } from './browser.js';

describe('web client: files and search', { skip: browserSkipReason() }, () => {
  let env: WebEnv;
  let ann: TestUser;
  let w: Watched;
  let channel: { id: string; name: string };
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nchat-web-files-'));
    env = await startWeb({ NCHAT_REPORTS_DIR: join(dir, 'reports') });
    ann = await env.server.user('ann');
    channel = (await ann.api.post('/api/channels', { name: unique('files'), type: 'public' })).body;
    w = await newUser(env);
    await signInWithTokens(w, env.url, ann);
  });
  after(async () => {
    await env?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('an image upload shows its thumbnail and opens larger; a text file is a download card', async () => {
    const png = join(dir, 'sunset.png');
    await writeFile(
      png,
      await sharp({ create: { width: 640, height: 400, channels: 3, background: { r: 250, g: 120, b: 40 } } })
        .png()
        .toBuffer(),
    );
    const txt = join(dir, 'notes.txt');
    await writeFile(txt, 'plain notes\n'.repeat(100));
    const p = w.page;
    await p.getByRole('link', { name: new RegExp(channel.name) }).click();
    await p.locator('input[type=file]').setInputFiles([png, txt]);
    await p.getByTestId('upload').filter({ hasText: 'sunset.png' }).filter({ hasText: '✓' }).waitFor({ timeout: 15_000 });
    await p.getByTestId('upload').filter({ hasText: 'notes.txt' }).filter({ hasText: '✓' }).waitFor({ timeout: 15_000 });
    await send(p, 'here is the picture');
    const thumb = p.getByTestId('thumbnail');
    await thumb.waitFor({ timeout: 20_000 });
    assert.match((await thumb.getAttribute('src')) ?? '', /^blob:/);
    assert.ok((await thumb.evaluate((img: any) => img.decode().then(() => img.naturalWidth as number))) > 0, 'the thumbnail decoded');
    await p.getByTestId('file-card').filter({ hasText: 'notes.txt' }).waitFor();
    await p.getByRole('button', { name: 'Open image sunset.png' }).click();
    await p.getByRole('dialog', { name: 'sunset.png' }).locator('img').waitFor();
    // Escape closes the viewer (its keyboard behaviour is test/web/keyboard.test.ts's).
    await p.keyboard.press('Escape');
    await p.getByRole('dialog', { name: 'sunset.png' }).waitFor({ state: 'detached' });
    assert.deepEqual(w.errors, []);
    assert.deepEqual(w.violations, []);
  });

  it('search finds an older message, highlights it and jumps to it', async () => {
    const other = (await ann.api.post('/api/channels', { name: unique('history'), type: 'public' })).body;
    await ann.api.post(`/api/channels/${other.id}/messages`, { text: 'the quokka report is ready for review' });
    for (let i = 0; i < 70; i++) await ann.api.post(`/api/channels/${other.id}/messages`, { text: `filler message ${i}` });
    const p = w.page;
    await p.reload();
    await p.getByRole('heading', { level: 1 }).waitFor();
    await p.getByRole('button', { name: 'Search', exact: true }).click();
    await p.getByRole('searchbox', { name: 'Search messages' }).fill('quokka');
    await p.getByRole('searchbox', { name: 'Search messages' }).press('Enter');
    const result = p.getByTestId('search-result').first();
    await result.waitFor({ timeout: 10_000 });
    assert.equal(await result.locator('mark').first().textContent(), 'quokka');
    await result.click();
    await p.getByRole('heading', { name: `# ${other.name}` }).waitFor();
    const focused = p.locator('.msg.focused');
    await focused.waitFor({ timeout: 10_000 });
    assert.match((await focused.textContent()) ?? '', /quokka report/);
    assert.ok(await focused.isVisible());

    // Nothing missing after the jump: scrolling down pages forward (after=) to the newest message.
    const list = p.getByTestId('message-list');
    const lastFiller = p.getByTestId('message-text').filter({ hasText: /^filler message 69$/ });
    for (let i = 0; i < 50 && (await lastFiller.count()) === 0; i++) {
      await list.evaluate((el) => {
        el.scrollTop = el.scrollHeight;
      });
      await p.waitForTimeout(100);
    }
    await lastFiller.waitFor({ timeout: 10_000 });
    // Walk the (virtualized) list from top to bottom and read each row once, by its row index.
    const shown = await list.evaluate(async (el) => {
      const rows = new Map<number, { seq: number; text: string }>();
      el.scrollTop = 0;
      // The virtualizer renders a scrolled-to window on a later frame: a step waits until some row
      // covers the viewport's top edge (up to 2 s; a loaded CI machine took over 50 ms to render
      // the first window, and the walk moved on past row 0), then one more tick.
      // (No named function here: the test's compiler would wrap it in a helper the page lacks.)
      for (let step = 0; step < 500; step++) {
        for (let t = 0; t < 40; t++) {
          const top = el.getBoundingClientRect().top;
          const rows = [...el.querySelectorAll('[data-index]')].map((r) => r.getBoundingClientRect());
          if (rows.some((b) => b.top <= top + 1 && b.bottom > top)) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        await new Promise((r) => setTimeout(r, 50));
        for (const a of el.querySelectorAll('article[data-testid="message"]')) {
          const index = Number(a.closest('[data-index]')?.getAttribute('data-index'));
          const text = a.querySelector('[data-testid="message-text"]')?.textContent ?? '';
          rows.set(index, { seq: Number(a.getAttribute('data-seq')), text });
        }
        if (el.scrollTop + el.clientHeight >= el.scrollHeight - 1) break;
        el.scrollTop += el.clientHeight / 2;
      }
      return [...rows.entries()].sort((x, y) => x[0] - y[0]).map(([, r]) => r);
    });
    const seqs = shown.map((r) => r.seq);
    assert.deepEqual(
      seqs,
      Array.from({ length: 71 }, (_, i) => i + 1),
      `every seq once, in order: ${seqs.join(',')}`,
    );
    const texts = shown.map((r) => r.text);
    assert.equal(texts.filter((t) => t === 'filler message 0').length, 1, 'filler message 0 once');
    assert.equal(texts.filter((t) => t === 'filler message 69').length, 1, 'the last filler once');
    assert.ok(texts.indexOf('filler message 0') < texts.indexOf('filler message 69'), 'in seq order');
    assert.match(texts[0], /quokka report/);
    assert.deepEqual(w.errors, []);
  });

  it('the admin performance page lists the report runs and shows one with its table and chart', async () => {
    const run = join(dir, 'reports', '2026-11-30T12-00-00Z-quick');
    await mkdir(join(run, 'charts'), { recursive: true });
    await writeFile(join(run, 'summary.md'), '# Quick run\n\n| metric | value |\n|---|---|\n| messages p95 | 98 ms |\n');
    await writeFile(
      join(run, 'charts', 'latency.png'),
      await sharp({ create: { width: 300, height: 150, channels: 3, background: '#2456c9' } })
        .png()
        .toBuffer(),
    );
    const o = await newUser(env);
    await signInWithTokens(o, env.url, env.server.owner);
    await o.page.getByRole('button', { name: 'Performance' }).click();
    await o.page
      .getByRole('dialog')
      .getByRole('listitem')
      .filter({ hasText: '2026-11-30T12-00-00Z-quick' })
      .getByRole('button', { name: 'Open' })
      .click();
    await o.page.getByRole('columnheader', { name: 'metric' }).waitFor();
    await o.page.getByRole('cell', { name: '98 ms' }).waitFor();
    await o.page.getByRole('img', { name: 'charts/latency.png' }).waitFor();
    assert.deepEqual(o.errors, []);
    assert.deepEqual(o.violations, []);
    await o.context.close();
  });
});
