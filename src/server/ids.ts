import { randomBytes } from 'node:crypto';

// Ids are time-ordered strings: 10 chars of milliseconds (base 32, Crockford-like, sortable)
// followed by 12 random chars. Sortable ids keep B-tree inserts append-mostly on both backends.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export function newId(now = Date.now()): string {
  let t = now;
  let head = '';
  for (let i = 0; i < 10; i++) {
    head = ALPHABET[t % 32] + head;
    t = Math.floor(t / 32);
  }
  const rnd = randomBytes(12);
  let tail = '';
  for (let i = 0; i < 12; i++) tail += ALPHABET[rnd[i] & 31];
  return head + tail;
}

export const ID_PATTERN = '^[0-9a-z]{22}$';
