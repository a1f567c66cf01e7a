// ResumePosition (src/loadtest/clients/resume-position.ts): the ws and messages scenarios'
// resume position after a drop, and the repeats a replay may bring.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResumePosition } from '../../src/loadtest/clients/resume-position.js';

test('a resume starts where the drop left off, whatever arrives live before it', () => {
  const p = new ResumePosition();
  p.start(10);
  assert.ok(p.received(11));
  p.dropped();
  // Live frames on the new socket before the resume is sent:
  assert.ok(p.received(15));
  assert.equal(p.last, 15);
  assert.equal(p.resumeFrom, 11, 'not 15: 12-14 were missed');
  // The replay repeats 15: dropped; the missed ones are kept.
  assert.ok(p.received(12));
  assert.equal(p.received(15), false);
  p.resumed();
  assert.equal(p.resumeFrom, 15);
  assert.ok(p.received(15), 'after resumed, no repeat check (the server sends each once)');
});

test('a second drop before resumed keeps the older position', () => {
  const p = new ResumePosition();
  p.start(5);
  p.dropped();
  assert.ok(p.received(9));
  p.dropped();
  assert.equal(p.resumeFrom, 5);
  assert.equal(p.received(9), false, 'still a repeat until resumed');
});
