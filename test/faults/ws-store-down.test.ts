// Fault: a NEW WebSocket upgrade while PostgreSQL is down (issue 15). A private PostgreSQL
// (private-postgres.ts; the shared one on 5432 is never touched) is crashed with
// `pg_ctl stop -m immediate` under one node. Every upgrade attempted while it is down must be
// refused in one of the two ways the gateway documents — an HTTP 503 UNAVAILABLE answer (with
// Retry-After) before the upgrade, or an opened socket closed with 1013 TRY_AGAIN_LATER and a
// reason saying the database is unavailable — never an abrupt close (1006), never 1011. The
// attempts cover both states of the node's user cache: a user whose account the node has cached
// (the token check passes without the database, so the refusal comes from the connection's
// setup), and users it has never seen (the token check itself needs the database). Once
// PostgreSQL is back, the same users connect and get hello.
// The 1006 seen before (the reverted check of 69e3333) was not the database: that client offered
// only `bearer.<token>` as subprotocol, without `nchat.v1`, so the server completed the upgrade
// with no subprotocol and the ws client dropped the socket. The gateway now refuses such an
// upgrade with 400 BAD_REQUEST (test/realtime/ws.test.ts); this test offers `nchat.v1` as clients do.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { setupWorkspace } from './load.js';
import { type ChildNode, startChildNode } from './nodes.js';
import { type PrivatePostgres, startPrivatePostgres } from './private-postgres.js';

let dir: string;
let node: ChildNode | undefined;
let pg: PrivatePostgres | string | undefined;
after(async () => {
  await node?.stop();
  if (pg && typeof pg !== 'string') pg.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Outcome {
  /** 'http' (refused before the upgrade), 'close' (opened, then closed), 'hello', or 'error'. */
  kind: 'http' | 'close' | 'hello' | 'error';
  status?: number;
  code?: number;
  reason?: string;
  body?: string;
  retryAfter?: string;
  ms: number;
}

/** One upgrade attempt with a raw `ws` client: what the server answered, within 15 s. */
function attempt(origin: string, token: string): Promise<Outcome> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const ws = new WebSocket(`${origin.replace(/^http/, 'ws')}/ws`, ['nchat.v1', `bearer.${token}`]);
    let done = false;
    const finish = (o: Omit<Outcome, 'ms'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...o, ms: Math.round(performance.now() - t0) });
    };
    const timer = setTimeout(() => {
      finish({ kind: 'error', reason: 'no answer within 15 s' });
      ws.terminate();
    }, 15_000);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () =>
        finish({ kind: 'http', status: res.statusCode, body, retryAfter: res.headers['retry-after'] as string | undefined }),
      );
      res.on('error', () => finish({ kind: 'http', status: res.statusCode, body }));
    });
    ws.on('message', (data) => {
      const events = JSON.parse(data.toString()) as { type: string }[];
      if (events.some((e) => e.type === 'hello')) {
        finish({ kind: 'hello' });
        ws.close(1000);
      }
    });
    ws.on('close', (code, reason) => finish({ kind: 'close', code, reason: reason.toString() }));
    ws.on('error', (err) => {
      // A refused upgrade also emits 'error' after 'unexpected-response' on some paths; the
      // answer already recorded wins.
      setTimeout(() => finish({ kind: 'error', reason: err.message }), 50);
    });
  });
}

const show = (o: Outcome) =>
  o.kind === 'http'
    ? `HTTP ${o.status} ${o.body ?? ''} (Retry-After ${o.retryAfter}) in ${o.ms} ms`
    : o.kind === 'close'
      ? `close ${o.code} "${o.reason}" in ${o.ms} ms`
      : `${o.kind}${o.reason ? ` ${o.reason}` : ''} in ${o.ms} ms`;

/** A refusal the client can act on: 503 UNAVAILABLE with Retry-After, or close 1013 naming the database. */
function assertRefusedCleanly(o: Outcome, what: string): void {
  if (o.kind === 'http') {
    assert.equal(o.status, 503, `${what}: HTTP refusal is 503, got ${show(o)}`);
    assert.equal(JSON.parse(o.body ?? '{}').error?.code, 'UNAVAILABLE', `${what}: code UNAVAILABLE, got ${show(o)}`);
    assert.ok(Number(o.retryAfter) > 0, `${what}: with Retry-After, got ${show(o)}`);
  } else {
    assert.equal(o.kind, 'close', `${what}: refused by 503 or a close, got ${show(o)}`);
    assert.equal(o.code, 1013, `${what}: closed with 1013 TRY_AGAIN_LATER, not ${show(o)}`);
    assert.match(o.reason ?? '', /database unavailable/, `${what}: the reason names the database, got ${show(o)}`);
  }
}

test('a new WebSocket upgrade while PostgreSQL is down: 503 or 1013 with a reason, never 1006; hello once it is back', async (t) => {
  pg = await startPrivatePostgres();
  if (typeof pg === 'string') return t.skip(pg);
  const db = pg;
  dir = await mkdtemp(join(tmpdir(), 'nchat-fault-wsdown-'));
  node = await startChildNode({
    name: 'wsdown',
    dataDir: join(dir, 'data'),
    logDir: join(dir, 'logs'),
    databaseUrl: db.url,
    env: { NCHAT_DB_POOL_SIZE: '5' },
  });
  const origin = node.origin;
  const ws = await setupWorkspace(origin, 6, 2);
  // users[0] has connected once (the node has its account cached); the others never have.
  const warm = ws.users[0];
  const first = await attempt(origin, warm.token);
  assert.equal(first.kind, 'hello', `before the fault: ${show(first)}`);

  db.crash();
  const outcomes: { who: string; o: Outcome }[] = [];
  // Right after the crash (the pool's connections are dead), then again after a pause (the
  // pool has noticed and connects anew: ECONNREFUSED), for the cached user and the others.
  for (const round of [0, 1, 2]) {
    if (round) await new Promise((r) => setTimeout(r, 1500));
    const results = await Promise.all([
      attempt(origin, warm.token).then((o) => ({ who: `cached user, round ${round}`, o })),
      ...ws.users.slice(1).map((u, i) => attempt(origin, u.token).then((o) => ({ who: `user ${i + 1}, round ${round}`, o }))),
    ]);
    outcomes.push(...results);
  }
  console.log(outcomes.map(({ who, o }) => `${who}: ${show(o)}`).join('\n'));
  for (const { who, o } of outcomes) assertRefusedCleanly(o, who);

  db.start();
  const up = performance.now();
  while ((await fetch(`${origin}/api/health`)).status !== 200) {
    if (performance.now() - up > 30_000) throw new Error('health not 200 within 30 s of the restart');
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const u of ws.users) {
    const o = await attempt(origin, u.token);
    assert.equal(o.kind, 'hello', `after PostgreSQL is back: ${show(o)}`);
  }
});
