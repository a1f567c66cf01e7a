// The pure rules behind uploads and downloads (issue 11): Range parsing, the type allowlist,
// filename sanitizing and Content-Disposition. The HTTP suites show them end to end.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseRange } from '../../src/server/files/download.js';
import { contentDisposition, sanitizeFilename } from '../../src/server/files/filename.js';
import { sniff, typeAllowed } from '../../src/server/files/sniff.js';

it('parseRange: one range within the size; suffix, open-ended and clamped ends; unusable ones ignored; 416 cases', () => {
  assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=90-1000', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-1000', 100), { start: 0, end: 99 });
  for (const h of [undefined, '', 'bytes=', 'bytes=-', 'items=0-1', 'bytes=0-1,4-5', 'bytes=5-2', 'bytes=a-b', 'bytes=1.5-2'])
    assert.equal(parseRange(h, 100), undefined, String(h));
  assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
  assert.equal(parseRange('bytes=-0', 100), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-0', 0), 'unsatisfiable');
  assert.equal(parseRange('bytes=-5', 0), 'unsatisfiable');
});

it('typeAllowed: *, type/*, exact types, case-insensitive; nothing else', () => {
  assert.ok(typeAllowed('application/pdf', ['*']));
  assert.ok(typeAllowed('image/png', ['image/*']));
  assert.ok(typeAllowed('Image/PNG', [' image/png ']));
  assert.ok(!typeAllowed('application/octet-stream', ['image/*', 'application/pdf']));
  assert.ok(!typeAllowed('imagex/png', ['image/*']));
  assert.ok(!typeAllowed('image/png', []));
});

it('sniff: from the bytes only; unknown, empty and text are generic; only raster images are images', async () => {
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
  assert.deepEqual(await sniff(png), { mime: 'image/png', isImage: true });
  assert.deepEqual(await sniff(Buffer.from('%PDF-1.7\n')), { mime: 'application/pdf', isImage: false });
  assert.deepEqual(await sniff(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>')), {
    mime: 'application/octet-stream',
    isImage: false,
  });
  assert.deepEqual(await sniff(Buffer.alloc(0)), { mime: 'application/octet-stream', isImage: false });
});

it('sanitizeFilename and contentDisposition: no path, controls, bidi or hidden names; a header that is safe for any name', () => {
  assert.equal(sanitizeFilename('C:\\Users\\me\\..\\secret.txt'), 'secret.txt');
  assert.equal(sanitizeFilename(' .hidden '), 'hidden');
  assert.equal(sanitizeFilename('a\uD800b.txt'), 'ab.txt', 'a lone surrogate is dropped');
  assert.equal(sanitizeFilename('e\u0301.txt'), '\u00e9.txt', 'NFC');
  assert.equal(sanitizeFilename(undefined), 'file');
  const long = sanitizeFilename(`${'😀'.repeat(300)}.jpeg`);
  assert.equal([...long].length, 255);
  assert.ok(long.endsWith('😀.jpeg') && long.isWellFormed(), 'cut between code points, extension kept');
  const h = contentDisposition('attachment', 'a"b\\c\r\n%.txt');
  assert.equal(h, `attachment; filename="a_b_c___.txt"; filename*=UTF-8''a%22b%5Cc%0D%0A%25.txt`);
  assert.ok(!/[\r\n]/.test(h));
});
