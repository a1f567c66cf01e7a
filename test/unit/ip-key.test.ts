// ipKey(): the key per-IP limits count under (IPv4 as is, IPv4-mapped as IPv4, IPv6 by /64),
// and the in-memory fixed-window limiter the per-user write limits use.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../src/server/errors.js';
import { FixedWindowLimiter, ipKey } from '../../src/server/lib/rate-limit.js';

test('ipKey: IPv4 and IPv4-mapped IPv6 are the IPv4 address; IPv6 is its /64', () => {
  assert.equal(ipKey('1.2.3.4'), '1.2.3.4');
  assert.equal(ipKey('::ffff:1.2.3.4'), '1.2.3.4');
  assert.equal(ipKey('::FFFF:1.2.3.4'), '1.2.3.4');
  assert.equal(ipKey('::ffff:102:304'), '1.2.3.4', 'mapped address in hex groups');
  assert.equal(ipKey('0:0:0:0:0:ffff:0102:0304'), '1.2.3.4', 'mapped address written out');
  assert.equal(ipKey('2001:db8:1:2::1'), '2001:db8:1:2::/64');
  assert.equal(ipKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), ipKey('2001:db8:1:2::1'), 'two addresses in one /64 share a key');
  assert.equal(ipKey('2001:0DB8:0001:0002:0:0:0:ffff'), '2001:db8:1:2::/64', 'leading zeros and case normalized');
  assert.notEqual(ipKey('2001:db8:1:3::1'), ipKey('2001:db8:1:2::1'), 'the neighbouring /64 is another key');
  assert.equal(ipKey('::1'), '0:0:0:0::/64');
  assert.equal(ipKey('fe80::1%eth0'), 'fe80:0:0:0::/64', 'zone id dropped');
  assert.equal(ipKey('64:ff9b::1.2.3.4'), '64:ff9b:0:0::/64', 'NAT64 is an IPv6 network, not the IPv4 host');
  assert.equal(ipKey('not an ip'), 'not an ip');
});

test('FixedWindowLimiter: limit per key per window, retryAfterSec, a new window starts afresh', () => {
  const l = new FixedWindowLimiter(3, 10_000, 'too many messages');
  const t0 = 1_000_000;
  for (let i = 0; i < 3; i++) l.hit('u1', t0 + i);
  assert.throws(
    () => l.hit('u1', t0 + 5_000),
    (e: unknown) =>
      e instanceof AppError &&
      e.code === 'RATE_LIMITED' &&
      /too many messages/.test(e.message) &&
      (e.details as { retryAfterSec: number }).retryAfterSec === 5,
  );
  l.hit('u2', t0 + 5_000); // another key has its own budget
  l.hit('u1', t0 + 10_000); // the next window
});
