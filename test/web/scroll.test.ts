// A channel with 10,000 messages in Chromium (real server, real SQLite): history loads as you
// scroll up, every seq 1..10,000 fetched exactly once; the list is virtualized (only a window of
// message elements in the DOM); scrolling through all of it passes every message through the DOM
// in order; and the "must reach" figures of issue 13 are measured here in the browser: frame
// intervals while scrolling (requestAnimationFrame, ≥ 300 frames) and channel switches with cached
// history (click → messages on screen, 20 switches).
//
// Correctness is asserted strictly. Timing is not: this machine (and CI's) is shared and noisy, and
// the project's rule is that speed is shown by benchmarks, never by timed unit tests. So the timing
// assertions catch only gross failures that no noise explains (switch median < 1,000 ms, rAF p95
// < 250 ms) and the figures are PRINTED, one labelled line each ("scroll.test: …"), for CI to show.
// The targets (switch < 100 ms, smooth scrolling) are recorded in docs/PERFORMANCE.md from
// a quiet `npm run bench:web`, which shares its measuring code with this test (test/web/measure.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpus, loadavg } from 'node:os';
import { browserSkipReason, newUser, signInWithTokens, startWeb, type Watched, type WebEnv } from './browser.js';
import {
  BIG_MARKER,
  loadHistoryByScrolling,
  ms,
  pct,
  type Seeded,
  SMALL_COUNT,
  SMALL_MARKER,
  scrollFrames,
  seedBigAndSmall,
  timeSwitches,
} from './measure.js';

const N = 10_000;
/** Message elements the DOM may hold: a window, not the history (the viewport shows about 20). */
const DOM_WINDOW_MAX = 500;
const log = (line: string) => console.log(`scroll.test: ${line}`);

describe('web client: 10,000 messages (history on scroll, virtualized list, frame times, channel switches)', {
  skip: browserSkipReason(),
}, () => {
  let env: WebEnv;
  let seeded: Seeded;
  let w: Watched;
  /** The seqs of every GET …/messages page of the big channel the client fetched. */
  const fetched: Promise<number[]>[] = [];

  before(async () => {
    env = await startWeb();
    seeded = await seedBigAndSmall(env.server, N);
    log(`seeded ${N} + ${SMALL_COUNT} messages in ${seeded.seconds.toFixed(1)} s`);
    w = await newUser(env);
    const path = `/api/channels/${seeded.big.id}/messages`;
    w.page.on('response', (r) => {
      if (r.request().method() === 'GET' && new URL(r.url()).pathname === path)
        fetched.push(
          r
            .json()
            .then((b: { messages: { seq: number }[] }) => b.messages.map((m) => m.seq))
            .catch(() => []), // an unreadable page: its seqs show as missing below
        );
    });
    await signInWithTokens(w, `${env.url}/#/c/${seeded.big.id}`, seeded.user);
    await w.page.getByTestId('message').first().waitFor();
  });
  after(async () => {
    await env?.stop();
  });

  it('history loads as you scroll up: every seq 1..10,000 fetched exactly once, and the DOM holds only a window', async () => {
    const load = await loadHistoryByScrolling(w.page);
    const count = new Map<number, number>();
    for (const page of await Promise.all(fetched)) for (const s of page) count.set(s, (count.get(s) ?? 0) + 1);
    const missing = Array.from({ length: N }, (_, i) => i + 1).filter((s) => !count.has(s));
    const twice = [...count].filter(([, c]) => c > 1).map(([s]) => s);
    const outside = [...count.keys()].filter((s) => s < 1 || s > N);
    assert.deepEqual(
      { missing: missing.slice(0, 10), missingCount: missing.length, twice: twice.slice(0, 10), twiceCount: twice.length, outside },
      { missing: [], missingCount: 0, twice: [], twiceCount: 0, outside: [] },
      'each seq 1..N must arrive in exactly one page',
    );

    const seqs = await w.page.getByTestId('message').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
    assert.equal(seqs[0], 1, 'scrolled to the top: the first message element is seq 1');
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
      'the DOM holds consecutive seqs from 1',
    );
    assert.ok(seqs.length < DOM_WINDOW_MAX, `virtualized: ${seqs.length} message elements in the DOM, expected < ${DOM_WINDOW_MAX}`);
    log(
      `history: ${N} messages loaded by scrolling up in ${load.seconds.toFixed(1)} s (${fetched.length} pages, ${load.scrolls} scrolls to the top); message elements in the DOM: ${seqs.length}`,
    );
  });

  it('scrolling down through all 10,000: every message passes through the DOM in order; frame intervals recorded', async () => {
    await w.page.getByTestId('message-list').evaluate((el) => {
      el.scrollTop = 0;
    });
    await w.page.waitForTimeout(100);
    const r = await scrollFrames(w.page, { frames: 301, toBottom: true, check: true });
    assert.ok(r.reachedBottom, 'reached the bottom of the list');
    assert.deepEqual(r.problems, [], 'every frame shows consecutive seqs, and no seq is skipped between frames');
    assert.deepEqual({ seen: r.seen, min: r.seenMin, max: r.seenMax }, { seen: N, min: 1, max: N }, 'every seq 1..N was in the DOM');
    assert.ok(
      r.maxWindow! < DOM_WINDOW_MAX,
      `virtualized while scrolling: at most ${r.maxWindow} message elements, expected < ${DOM_WINDOW_MAX}`,
    );

    const f = r.intervals;
    assert.ok(f.length >= 300, `${f.length} frame intervals recorded, expected ≥ 300`);
    const p95 = pct(f, 95);
    log(
      `frames while scrolling through ${N} loaded (${r.stepPx} px/frame, DOM read each frame): ${f.length} intervals, p50 ${ms(pct(f, 50))}, p95 ${ms(p95)}, p99 ${ms(pct(f, 99))}, max ${ms(Math.max(...f))}, over 50 ms: ${f.filter((x) => x > 50).length}; at most ${r.maxWindow} message elements`,
    );
    assert.ok(p95 < 250, `rAF interval p95 ${ms(p95)}: over 250 ms is a gross failure, not noise`);
  });

  it('switching channels with cached history: 20 switches, click → messages on screen', async () => {
    const { big, small } = seeded;
    await w.page.getByRole('link', { name: new RegExp(small.name) }).click();
    await w.page
      .getByTestId('message-text')
      .filter({ hasText: `small ${SMALL_COUNT - 1}` })
      .waitFor();
    const { toA: toBig, toB: toSmall } = await timeSwitches(w.page, { ...big, marker: BIG_MARKER }, { ...small, marker: SMALL_MARKER }, 20);
    const all = [...toBig, ...toSmall];
    log(
      `channel switch with cached history (click → messages on screen): to the ${N}-message channel median ${ms(pct(toBig, 50))}, max ${ms(Math.max(...toBig))}; to the ${SMALL_COUNT}-message channel median ${ms(pct(toSmall, 50))}, max ${ms(Math.max(...toSmall))} (${toBig.length} + ${toSmall.length})`,
    );
    log(
      `machine: ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} (noisy figures; issue 13's < 100 ms is judged from a quiet bench:web)`,
    );
    assert.equal(all.length, 20);
    assert.ok(pct(all, 50) < 1000, `switch median ${ms(pct(all, 50))}: over 1,000 ms is a gross failure, not noise`);
    assert.deepEqual(w.errors, [], 'no page errors');
    assert.deepEqual(w.violations, [], 'no CSP violations');
  });
});
