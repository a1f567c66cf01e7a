// Measuring the web client in Chromium, shared by test/web/scroll.test.ts (asserts correctness and
// only gross timing bounds, prints the figures) and bench/web.ts (prints the figures that
// docs/PERFORMANCE.md records from a quiet machine). One place for the seeding, the scrolling, the
// frame recording and the channel-switch timing, so the test and the bench measure the same thing.
// Page-side code is given as text: the root tsconfig has no DOM types.
import type { Page } from 'playwright-core';
import type { Actor } from '../../src/server/services/context.js';
import { type TestServer, type TestUser, unique } from '../helpers/server.js';

/** The p-th percentile (nearest rank, 0–100) of xs. */
export const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
export const ms = (x: number): string => `${x.toFixed(1)} ms`;

export interface Channel {
  id: string;
  name: string;
}
export interface Seeded {
  user: TestUser;
  /** n messages from `user`, texts starting with "message " (seqs 1..n). */
  big: Channel;
  /** SMALL_COUNT messages "small 0" … "small 59". */
  small: Channel;
  /** Seeding time of both channels. */
  seconds: number;
}
export const SMALL_COUNT = 60;
/** How each channel's message texts start (to tell from the page which channel is on screen). */
export const BIG_MARKER = 'message ';
export const SMALL_MARKER = 'small ';

/**
 * A user with two public channels: `big` with n messages, seeded through the message service
 * (the path REST takes, without HTTP per message: 50 in flight at a time), and `small` with
 * SMALL_COUNT messages posted over REST.
 */
export async function seedBigAndSmall(server: TestServer, n: number): Promise<Seeded> {
  const user = await server.user('ann');
  const actor: Actor = { userId: user.id, role: 'member' };
  const big: Channel = (await user.api.post('/api/channels', { name: unique('big'), type: 'public' })).body;
  const small: Channel = (await user.api.post('/api/channels', { name: unique('small'), type: 'public' })).body;
  const t0 = performance.now();
  for (let i = 0; i < n; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, (_, k) =>
        server.running.services.messages.send(actor, {
          channelId: big.id,
          text: `message ${i + k + 1}: ${k % 7 === 0 ? '**bold** and `code` and a link https://example.com/' : 'plain text of a usual length for a chat line'}`,
        }),
      ),
    );
  }
  for (let i = 0; i < SMALL_COUNT; i++) {
    const r = await user.api.post(`/api/channels/${small.id}/messages`, { text: `small ${i}` });
    if (r.status !== 201) throw new Error(`posting to the small channel: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return { user, big, small, seconds: (performance.now() - t0) / 1000 };
}

/** Scrolls the open channel's message list to the top; answers the lowest data-seq in the DOM (or null). */
const SCROLL_TO_TOP = `(() => {
  const el = document.querySelector('[data-testid=message-list]');
  el.scrollTop = 0;
  el.dispatchEvent(new Event('scroll'));
  const seqs = [...el.querySelectorAll('[data-testid=message]')].map((a) => Number(a.dataset.seq));
  return seqs.length ? Math.min(...seqs) : null;
})()`;

/**
 * Scrolls the open channel to the top again and again (the list loads the page before its oldest
 * message when scrolled near the top) until the message with seq 1 is in the DOM. Throws when the
 * lowest seq on screen stops going down for `stallMs` (history stopped loading).
 */
export async function loadHistoryByScrolling(page: Page, stallMs = 15_000): Promise<{ seconds: number; scrolls: number }> {
  const t0 = performance.now();
  let scrolls = 0;
  let lowest = Number.POSITIVE_INFINITY;
  let progressAt = t0;
  for (;;) {
    const low = (await page.evaluate(SCROLL_TO_TOP)) as number | null;
    scrolls++;
    if (low === 1) break;
    if (low !== null && low < lowest) {
      lowest = low;
      progressAt = performance.now();
    } else if (performance.now() - progressAt > stallMs) {
      throw new Error(`history stopped loading: the lowest seq on screen stayed ${lowest} for ${stallMs} ms (${scrolls} scrolls)`);
    }
    await page.waitForTimeout(30);
  }
  return { seconds: (performance.now() - t0) / 1000, scrolls };
}

export interface FrameOptions {
  /** requestAnimationFrame callbacks to record (frames - 1 intervals), at least. */
  frames: number;
  /** Pixels scrolled per frame; default: what reaches the bottom in about `frames` frames, at most 3/4 of the viewport. */
  stepPx?: number;
  /** Keep scrolling (past `frames`) until the bottom of the list is reached and seen. */
  toBottom?: boolean;
  /**
   * Read the message elements in the DOM at every frame: each frame's seqs must be consecutive
   * (one element per seq, none missing), and no seq may be skipped between frames.
   */
  check?: boolean;
}
export interface FrameResult {
  /** Intervals between consecutive animation frames (ms). */
  intervals: number[];
  stepPx: number;
  reachedBottom: boolean;
  /** With `check`: distinct seqs seen, their range, the most message elements in one frame, and what broke the order. */
  seen?: number;
  seenMin?: number;
  seenMax?: number;
  maxWindow?: number;
  problems?: string[];
}

/** Scrolls the message list down one step per animation frame and records the frame intervals. */
export async function scrollFrames(page: Page, o: FrameOptions): Promise<FrameResult> {
  return (await page.evaluate(`new Promise((resolve) => {
    const o = ${JSON.stringify(o)};
    const el = document.querySelector('[data-testid=message-list]');
    const stepPx = o.stepPx ?? Math.max(1, Math.min(Math.floor(el.clientHeight * 0.75),
      Math.ceil((el.scrollHeight - el.clientHeight - el.scrollTop) / (o.frames + 30))));
    const maxFrames = Math.max(o.frames, 20000);
    const out = []; let last = performance.now(); let n = 0;
    const seen = new Set(); const problems = []; let maxWindow = 0; let prevLast = null;
    const look = () => {
      const seqs = [...el.querySelectorAll('[data-testid=message]')].map((a) => Number(a.dataset.seq));
      maxWindow = Math.max(maxWindow, seqs.length);
      for (let i = 1; i < seqs.length; i++)
        if (seqs[i] !== seqs[i - 1] + 1 && problems.length < 10) problems.push('frame ' + n + ': seq ' + seqs[i] + ' follows ' + seqs[i - 1]);
      if (seqs.length && prevLast !== null && seqs[0] > prevLast + 1 && problems.length < 10)
        problems.push('frame ' + n + ': seqs ' + (prevLast + 1) + '..' + (seqs[0] - 1) + ' never in the DOM');
      if (seqs.length) prevLast = seqs[seqs.length - 1];
      for (const s of seqs) seen.add(s);
    };
    const done = (reachedBottom) => {
      const r = { intervals: out.slice(1), stepPx, reachedBottom };
      if (o.check) Object.assign(r, { seen: seen.size, seenMin: Math.min(...seen), seenMax: Math.max(...seen), maxWindow, problems });
      resolve(r);
    };
    const tick = (t) => {
      out.push(t - last); last = t; n++;
      if (o.check) look();
      const bottom = el.scrollTop >= el.scrollHeight - el.clientHeight - 1;
      if (n >= o.frames && (!o.toBottom || bottom)) return done(bottom);
      if (n >= maxFrames) return done(false);
      el.scrollTop += stepPx;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })`)) as FrameResult;
}

/**
 * Switches channels `count` times by clicking their sidebar links, alternately to `a` and `b`
 * (both opened before, so their history is cached), and times each from the click to the first
 * animation frame where the channel's title and one of its messages (text starting with its
 * marker) are in the DOM. Answers the times to `a` and to `b` (ms).
 */
export async function timeSwitches(
  page: Page,
  a: Channel & { marker: string },
  b: Channel & { marker: string },
  count: number,
): Promise<{ toA: number[]; toB: number[] }> {
  const toA: number[] = [];
  const toB: number[] = [];
  for (let i = 0; i < count; i++) {
    const target = i % 2 === 0 ? a : b;
    const t = (await page.evaluate(`new Promise((resolve, reject) => {
      const name = ${JSON.stringify(target.name)};
      const marker = ${JSON.stringify(target.marker)};
      const link = [...document.querySelectorAll('nav a')].find((a) => a.textContent.includes(name));
      if (!link) return reject(new Error('no sidebar link for ' + name));
      const t0 = performance.now();
      link.click();
      const check = () => {
        const h = document.getElementById('channel-title');
        if (h && h.textContent.includes(name) && [...document.querySelectorAll('[data-testid=message-text]')].some((e) => e.textContent.startsWith(marker)))
          resolve(performance.now() - t0);
        else if (performance.now() - t0 > 30000) reject(new Error('channel ' + name + ' not on screen 30 s after the click'));
        else requestAnimationFrame(check);
      };
      check();
    })`)) as number;
    (target === a ? toA : toB).push(t);
  }
  return { toA, toB };
}
