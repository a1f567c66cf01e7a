// HistoryPages: a page is reused only under the version it was read at; the kept bodies stay
// under the byte bound, least recently used out first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HistoryPages } from './history-pages.js';

describe('HistoryPages', () => {
  it('reuses a body under its version only, and keeps one per (channel, limit)', async () => {
    const p = new HistoryPages();
    let loads = 0;
    const load = (body: string) => async () => {
      loads++;
      return body;
    };
    assert.equal((await p.get('c1', 50, 'v1', load('a'))).toString(), 'a');
    assert.equal((await p.get('c1', 50, 'v1', load('never read'))).toString(), 'a');
    assert.equal(loads, 1);
    assert.equal((await p.get('c1', 50, 'v2', load('b'))).toString(), 'b', 'a new version reloads');
    assert.equal((await p.get('c1', 20, 'v2', load('c'))).toString(), 'c', 'another limit is another page');
    assert.equal((await p.get('c2', 50, 'v2', load('d'))).toString(), 'd', 'another channel is another page');
    assert.equal(loads, 4);
    assert.deepEqual([p.hits, p.misses], [1, 4]);
  });

  it('stays under its byte bound, dropping the least recently used first', async () => {
    const p = new HistoryPages(10);
    await p.get('a', 1, 'v', async () => 'aaaa');
    await p.get('b', 1, 'v', async () => 'bbbb');
    await p.get('a', 1, 'v', async () => 'unused'); // a is now the most recently used
    await p.get('c', 1, 'v', async () => 'cccc'); // 12 bytes: b goes
    assert.deepEqual(p.size(), { entries: 2, bytes: 8 });
    assert.equal((await p.get('a', 1, 'v', async () => 'reloaded')).toString(), 'aaaa');
    assert.equal((await p.get('b', 1, 'v', async () => 'bbbb2')).toString(), 'bbbb2', 'b was dropped');
    await p.get('big', 1, 'v', async () => 'x'.repeat(11));
    assert.ok(p.size().bytes <= 10, 'a body over the bound is served but not kept');
  });

  it('tags a page by process, channel, limit and version', () => {
    const p = new HistoryPages();
    const tag = p.etag('c1', 50, 'v1');
    assert.match(tag, /^"[^"]+"$/, 'a strong tag');
    assert.equal(p.etag('c1', 50, 'v1'), tag);
    for (const other of [p.etag('c2', 50, 'v1'), p.etag('c1', 20, 'v1'), p.etag('c1', 50, 'v2')]) assert.notEqual(other, tag);
    // A restarted process starts its versions again: its tags must not match the old ones.
    assert.notEqual(new HistoryPages().etag('c1', 50, 'v1'), tag);
  });

  it('keeps nothing when the load fails', async () => {
    const p = new HistoryPages();
    await assert.rejects(
      p.get('c', 1, 'v', async () => {
        throw new Error('read failed');
      }),
      /read failed/,
    );
    assert.deepEqual(p.size(), { entries: 0, bytes: 0 });
  });
});
