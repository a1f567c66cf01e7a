// npm run bench:web [-- --messages 10000]
//
// The web client in Debian's Chromium against a real server (SQLite), measured from the page:
//   1. history: a channel with N messages (default 10,000), scrolled back until all are loaded
//      (pages of 100 as the user scrolls up); the time that takes and how many message elements
//      the DOM holds at the end (the list is virtualized: only the visible rows exist);
//   2. scrolling with all N loaded: 300 animation frames scrolling 240 px each, frame intervals
//      from requestAnimationFrame (p50/p95/p99/max, frames over 50 ms);
//   3. channel switch with cached history: click → the other channel's messages on screen,
//      20 switches (median, p95, max).
// Not a test: it prints figures for docs/PERFORMANCE.md. Headless Chromium with --disable-gpu
// paints in software, and the machine is shared, so treat the figures as upper bounds.
// The seeding and measuring code is shared with test/web/scroll.test.ts (test/web/measure.ts),
// which asserts the history and the virtualized list and prints the same kinds of figures in CI.
import { cpus } from 'node:os';
import { newUser, signInWithTokens, startWeb } from '../test/web/browser.js';
import {
  BIG_MARKER,
  loadHistoryByScrolling,
  ms,
  pct,
  SMALL_COUNT,
  SMALL_MARKER,
  scrollFrames,
  seedBigAndSmall,
  timeSwitches,
} from '../test/web/measure.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const N = Number(args.get('messages') ?? 10_000);

async function main() {
  const env = await startWeb();
  try {
    const { user, big, small, seconds } = await seedBigAndSmall(env.server, N);
    console.log(`seeded ${N} messages in ${seconds.toFixed(1)} s`);

    const w = await newUser(env);
    await signInWithTokens(w, `${env.url}/#/c/${big.id}`, user);
    const page = w.page;
    await page.getByTestId('message').first().waitFor();

    // 1. Scroll back through the whole history.
    const load = await loadHistoryByScrolling(page);
    const domRows = await page.getByTestId('message').count();
    console.log(`history: ${N} messages loaded by scrolling up in ${load.seconds.toFixed(1)} s; message elements in the DOM: ${domRows}`);

    // 2. Frame intervals while scrolling down through all N.
    const { intervals: frames } = await scrollFrames(page, { frames: 300, stepPx: 240 });
    const long = frames.filter((f) => f > 50).length;
    console.log(
      `scrolling with ${N} loaded: ${frames.length} frames, interval p50 ${ms(pct(frames, 50))}, p95 ${ms(pct(frames, 95))}, p99 ${ms(pct(frames, 99))}, max ${ms(Math.max(...frames))}, over 50 ms: ${long}`,
    );

    // 3. Channel switches with cached history.
    await page.getByRole('link', { name: new RegExp(small.name) }).click();
    await page
      .getByTestId('message')
      .filter({ hasText: `small ${SMALL_COUNT - 1}` })
      .waitFor();
    const { toA: toBig, toB: toSmall } = await timeSwitches(page, { ...big, marker: BIG_MARKER }, { ...small, marker: SMALL_MARKER }, 20);
    console.log(
      `channel switch with cached history (click → messages rendered): to the ${N}-message channel median ${ms(pct(toBig, 50))}, max ${ms(Math.max(...toBig))}; to a ${SMALL_COUNT}-message channel median ${ms(pct(toSmall, 50))}, max ${ms(Math.max(...toSmall))} (10 each)`,
    );
    console.log(
      `machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), shared by the server, Chromium and other work; ${new Date().toISOString().slice(0, 10)}`,
    );
  } finally {
    await env.stop();
  }
}

await main();
