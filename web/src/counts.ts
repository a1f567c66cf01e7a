// Unread and mention badges. The server counts each up to the protocol's UNREAD_COUNT_CAP
// (src/protocol/objects.ts; the value itself means "that many or more"), so a badge at the cap
// reads "99+", and the client's own +1 per live message stops there too. The constant is
// repeated here rather than imported so the bundle does not pull in the protocol's schema
// library; counts.test.ts checks that the two agree.
export const UNREAD_CAP = 100;

/** The count after one more unread message, never past the cap. */
export function plusOne(n: number | undefined): number {
  return Math.min(UNREAD_CAP, (n ?? 0) + 1);
}

/** The badge text: the number, or "99+" at the cap. */
export function badgeText(n: number): string {
  return n >= UNREAD_CAP ? `${UNREAD_CAP - 1}+` : String(n);
}
