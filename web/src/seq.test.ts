import { describe, expect, it } from 'vitest';
import { SeqTracker, backoffMs } from './seq.js';

describe('SeqTracker', () => {
  it('delivers each seq once and reports a gap until it is filled', () => {
    const t = new SeqTracker();
    t.track('c', 3);
    expect(t.accept('c', 3)).toBe('dup');
    expect(t.accept('c', 4)).toBe('new');
    expect(t.accept('c', 4)).toBe('dup');
    expect(t.accept('c', 7)).toBe('gap');
    expect(t.gaps()).toEqual(['c']);
    expect(t.position('c')).toBe(4);
    expect(t.accept('c', 7)).toBe('dup');
    expect(t.accept('c', 5)).toBe('new');
    expect(t.accept('c', 6)).toBe('new');
    // 7 was already delivered: the contiguous position jumps over it.
    expect(t.position('c')).toBe(7);
    expect(t.gaps()).toEqual([]);
    expect(t.accept('c', 7)).toBe('dup');
  });

  it('never moves a position back, and starts unknown channels where their first message is', () => {
    const t = new SeqTracker();
    t.track('c', 10);
    t.track('c', 5);
    expect(t.position('c')).toBe(10);
    expect(t.accept('d', 42)).toBe('new');
    expect(t.positions()).toEqual({ c: 10, d: 42 });
  });
});

describe('backoffMs', () => {
  it('is full jitter under an exponential ceiling capped at 30 s', () => {
    expect(backoffMs(0, 500, 30_000, () => 0.999)).toBe(499);
    expect(backoffMs(3, 500, 30_000, () => 0.5)).toBe(2000);
    expect(backoffMs(20, 500, 30_000, () => 0.999)).toBe(29_970);
    expect(backoffMs(5, 500, 30_000, () => 0)).toBe(0);
  });
});
