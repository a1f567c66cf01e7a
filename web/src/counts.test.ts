import { describe, expect, it } from 'vitest';
import { UNREAD_COUNT_CAP } from '../../src/protocol/objects.js';
import { UNREAD_CAP, badgeText, plusOne } from './counts.js';

describe('unread badges', () => {
  it('uses the protocol cap', () => {
    expect(UNREAD_CAP).toBe(UNREAD_COUNT_CAP);
  });
  it('shows the number below the cap and 99+ at it', () => {
    expect(badgeText(1)).toBe('1');
    expect(badgeText(99)).toBe('99');
    expect(badgeText(100)).toBe('99+');
  });
  it('counts live messages up to the cap, not past it', () => {
    expect(plusOne(undefined)).toBe(1);
    expect(plusOne(98)).toBe(99);
    expect(plusOne(99)).toBe(100);
    expect(plusOne(100)).toBe(100);
  });
});
