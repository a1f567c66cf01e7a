// Machine calibration: about a second of fixed work, timed before a run's load starts, so that
// figures from different days can be read against the machine they came from.
//
// Why: the development machine is a VM whose speed changes from day to day. On 2026-12-01 the
// same commit measured 315 MB/s of uploads on one 2-core box in the morning and 175 MB/s on
// another after noon, with the bare ws baseline's e2e p95 at 1,000 msg/s 5× what it was on the
// day issue 14 was filed. What moved most was the cost of a system call, which CPU model and
// core count do not tell. The probes are the operations the server's hot paths are made of.
//
// Contract: every figure is a median over batches (a batch's time ÷ its operations), so one
// preempted batch does not move it; nothing is compared with a reference here — the figures are
// recorded (environment.json `calibration`, a notice in summary.md, the report's test
// infrastructure) for a reader to compare runs. They describe the machine the generator runs on,
// which is the server's only when the server is local.
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export interface Calibration {
  /** When it ran (ISO). */
  at: string;
  /** µs per 1-byte write to /dev/null: a system call's entry and exit, mitigations included. */
  syscallUs: number;
  /** µs per 4 KiB pwrite into a temp file (page cache, no fsync): how file writes cost. */
  pwrite4kUs: number;
  /**
   * µs per 8 KiB pread at a scattered offset of a 64 MiB temp file held in the page cache: what a
   * database page costs when the database's own cache misses and the kernel's hits (PostgreSQL's
   * shared_buffers is 128 MB by default, a 1M-message workspace several times that). Added after
   * PostgreSQL searches at 1M cost 3-4× the CPU on one day that they did the day before, with
   * the same code, and no other probe moved (docs/PERFORMANCE.md, 2026-12-02).
   */
  pageReadUs: number;
  /** µs per one-row SQLite commit (WAL, synchronous=NORMAL, the server's default) in a temp file. */
  sqliteCommitUs: number;
  /**
   * µs per 64-byte write on a loopback TCP connection (the kernel runs the receiver's side of TCP
   * in the writer's call): what every WebSocket delivery and HTTP reply costs in the kernel.
   */
  tcpWriteUs: number;
  /** SHA-256 throughput in MB/s (uploads hash every byte). */
  sha256MBps: number;
  /** µs per JSON.stringify + JSON.parse of a fixed ~1 KB object (every request and event). */
  jsonUs: number;
  /** The 1-minute load average when it started (other work on the machine). */
  loadavg1: number;
  /** Wall time the calibration took, ms. */
  tookMs: number;
}

const BATCHES = 9;

const median = (xs: number[]) => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)];

/** Median over BATCHES of (batch time ÷ ops), in µs; `op(i)` runs one operation. */
function perOpUs(ops: number, op: (i: number) => void): number {
  const times: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) op(i);
    times.push(Number(process.hrtime.bigint() - t0) / 1e3 / ops);
  }
  return median(times);
}

/**
 * Loopback TCP: each batch's writes are timed synchronously (Node tries each write on the socket
 * at once), then the batch is read to the end before the next, so the socket buffers never fill
 * (a full buffer would queue writes in user space and time nothing).
 */
async function tcpWriteUs(): Promise<number> {
  const PER_BATCH = 100;
  const chunk = Buffer.alloc(64, 1);
  let received = 0;
  let wake: (() => void) | undefined;
  let failed: Error | undefined;
  const server = createServer((s) => {
    s.on('data', (d) => {
      received += d.length;
      wake?.();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const client: Socket = connect(port, '127.0.0.1');
  client.setNoDelay(true);
  // A socket error ends the probe (the waits below would otherwise never be woken).
  client.on('error', (e) => {
    failed = e;
    wake?.();
  });
  try {
    await new Promise<void>((r, j) => client.once('connect', r).once('error', j));
    const times: number[] = [];
    for (let b = 0; b < BATCHES + 1; b++) {
      const want = received + PER_BATCH * chunk.length;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < PER_BATCH; i++) client.write(chunk);
      const us = Number(process.hrtime.bigint() - t0) / 1e3 / PER_BATCH;
      if (b > 0) times.push(us); // the first batch warms the connection up
      while (received < want) {
        if (failed) throw failed;
        await new Promise<void>((r) => (wake = r));
      }
    }
    return median(times);
  } finally {
    client.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/** See Calibration.pageReadUs. The file is written first, so its pages are in the page cache. */
function scatteredReadUs(path: string): number {
  const PAGE = 8192;
  const PAGES = (64 << 20) / PAGE;
  const chunk = Buffer.alloc(1 << 20, 5);
  const w = openSync(path, 'w');
  try {
    for (let i = 0; i < 64; i++) writeSync(w, chunk);
  } finally {
    closeSync(w);
  }
  const r = openSync(path, 'r');
  const buf = Buffer.alloc(PAGE);
  let x = 12345;
  try {
    // A fixed pseudo-random walk (LCG), so every run reads the same pages in the same order.
    return perOpUs(2_000, () => {
      x = (x * 1103515245 + 12345) % 2147483648;
      readSync(r, buf, 0, PAGE, (x % PAGES) * PAGE);
    });
  } finally {
    closeSync(r);
  }
}

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;

/** Runs the probes (about a second on the 2-core dev VM); files go to a temp dir, removed after. */
export async function calibrate(parent = tmpdir()): Promise<Calibration> {
  const started = performance.now();
  const load = loadavg()[0];
  const dir = mkdtempSync(join(parent, 'nchat-calibrate-'));
  try {
    const one = Buffer.from('x');
    const devNull = openSync('/dev/null', 'w');
    let syscallUs: number;
    try {
      syscallUs = perOpUs(2_000, () => writeSync(devNull, one));
    } finally {
      closeSync(devNull);
    }

    const page = Buffer.alloc(4096, 7);
    const file = openSync(join(dir, 'pwrite'), 'w');
    let pwrite4kUs: number;
    try {
      // 256 pages rewritten in place: the file stays 1 MiB, its pages stay cached.
      pwrite4kUs = perOpUs(1_000, (i) => writeSync(file, page, 0, page.length, (i % 256) * 4096));
    } finally {
      closeSync(file);
    }

    const pageReadUs = scatteredReadUs(join(dir, 'pages'));

    const db = new Database(join(dir, 'commit.db'));
    let sqliteCommitUs: number;
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
      const tx = db.transaction((v: string) => insert.run(v));
      const text = 'a message of about eighty characters, as a chat line is, to be written per commit';
      sqliteCommitUs = perOpUs(200, () => tx.immediate(text));
    } finally {
      db.close();
    }

    const tcp = await tcpWriteUs();

    const block = Buffer.alloc(4 << 20, 3);
    const hashUs = perOpUs(2, () => createHash('sha256').update(block).digest());
    const sha256MBps = block.length / hashUs;

    const doc = {
      type: 'message',
      channelId: '01JD4Z0000CHANNEL00000001',
      message: {
        id: '01JD4Z0000MESSAGE00000001',
        seq: 123456,
        authorId: '01JD4Z0000USER00000000001',
        text: 'x'.repeat(600),
        createdAt: '2026-12-01T12:00:00.000Z',
        mentions: { userIds: ['01JD4Z0000USER00000000002'], channel: false, here: false },
        reactions: [{ emoji: 'thumbsup', count: 3, userIds: ['a', 'b', 'c'] }],
        files: [],
      },
    };
    const jsonUs = perOpUs(500, () => JSON.parse(JSON.stringify(doc)));

    return {
      at: new Date().toISOString(),
      syscallUs: round(syscallUs, 2),
      pwrite4kUs: round(pwrite4kUs, 2),
      pageReadUs: round(pageReadUs, 2),
      sqliteCommitUs: round(sqliteCommitUs, 1),
      tcpWriteUs: round(tcp, 2),
      sha256MBps: Math.round(sha256MBps),
      jsonUs: round(jsonUs, 2),
      loadavg1: round(load, 2),
      tookMs: Math.round(performance.now() - started),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The figures as text, "(when, load average; medians): …" (the report prints them under its own label). */
export function calibrationFigures(c: Calibration): string {
  return (
    `(${c.at}, load average ${c.loadavg1}; medians): system call ${c.syscallUs} µs, ` +
    `4 KiB pwrite ${c.pwrite4kUs} µs, 8 KiB cached page read ${c.pageReadUs ?? 'not measured'} µs, SQLite commit ${c.sqliteCommitUs} µs, 64 B loopback TCP write ${c.tcpWriteUs} µs, SHA-256 ${c.sha256MBps} MB/s, ` +
    `JSON round trip of 1 KB ${c.jsonUs} µs — compare runs of different days by these`
  );
}

/** One line for a notice or a bench header; "not measured" with the reason when absent. */
export function calibrationLine(c: Calibration | undefined, why = 'not run'): string {
  return c ? `machine calibration ${calibrationFigures(c)}` : `machine calibration: not measured (${why})`;
}
