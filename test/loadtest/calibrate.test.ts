// The machine calibration (src/loadtest/calibrate.ts) on this machine: every probe yields a
// positive, finite figure from real work (a real /dev/null, temp file, SQLite file and loopback
// TCP connection), its temp dir is removed, and the line says "not measured" when there is none.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { calibrate, calibrationLine } from '../../src/loadtest/calibrate.js';

test('calibrate: every figure measured, nothing left on disk', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'nchat-calibrate-test-'));
  try {
    const c = await calibrate(parent);
    for (const k of ['syscallUs', 'pwrite4kUs', 'pageReadUs', 'sqliteCommitUs', 'tcpWriteUs', 'sha256MBps', 'jsonUs'] as const) {
      assert.ok(Number.isFinite(c[k]) && c[k] > 0, `${k} = ${c[k]}`);
    }
    // Orders that hold on any machine: a commit (several writes and locks) costs more than one
    // bare system call, and hashing runs faster than 1 MB/s.
    assert.ok(c.sqliteCommitUs > c.syscallUs, `commit ${c.sqliteCommitUs} µs > system call ${c.syscallUs} µs`);
    assert.ok(c.sha256MBps > 1);
    assert.ok(!Number.isNaN(Date.parse(c.at)));
    assert.deepEqual(readdirSync(parent), [], 'the temp files are removed');
    const line = calibrationLine(c);
    assert.match(line, new RegExp(`SQLite commit ${c.sqliteCommitUs} µs`));
    assert.match(line, new RegExp(`loopback TCP write ${c.tcpWriteUs} µs`));
    assert.match(line, new RegExp(`8 KiB cached page read ${c.pageReadUs} µs`));
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test('calibrationLine without a calibration says not measured and why', () => {
  assert.equal(calibrationLine(undefined, 'remote run'), 'machine calibration: not measured (remote run)');
});
