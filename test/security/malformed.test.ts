// Security matrix, oversize and malformed input: every route of the matrix whose permitted probe
// has a JSON body gets a body over NCHAT_BODY_LIMIT (413), a wrong content type (415), broken
// JSON and `__proto__` (400), an unknown field, each field with a wrong type and each field
// nested 10,000 deep (400 VALIDATION_FAILED); every route with query parameters an unknown
// parameter and bad limits. Every WebSocket op gets the same (unknown field, wrong types, deep
// nesting) plus an unknown op, broken JSON and a frame over NCHAT_WS_MAX_PAYLOAD (close 1009).
// Each row: the exact status (or event) and code, nothing written, the server still answering.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { ClientOps } from '../../src/protocol/ws.js';
import { forEachBackend } from '../helpers/server.js';
import { MATRIX, routeKey, sendProbe, type Probe } from './matrix.js';
import { buildWorld, type World } from './world.js';
import { connect } from './ws-util.js';

/** A value of another JSON type than `v`. */
const wrongType = (v: unknown): unknown =>
  typeof v === 'string' ? 12345 : typeof v === 'number' ? true : typeof v === 'boolean' ? 'true' : Array.isArray(v) ? 'not-an-array' : [v];
const deep = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

/** Enough of a World to read the shape of a probe when the rows are generated (before any server). */
const user = { id: 'x', token: 'x', username: 'x' };
const SHAPE = {
  alice: user,
  bob: user,
  carol: user,
  guest: user,
  owner: user,
  gone: user,
  priv: { id: 'x', name: 'x' },
  msg: { id: 'x' },
  reply: { id: 'x' },
  file: { id: 'x' },
  tusId: 'x',
  secretWord: 'xxxxxxx',
} as unknown as World;

type Row = { what: string; make(p: Probe, w: World): { raw: string; type?: string }; status: number; codes: string[] };
const BODY_ROWS: Row[] = [
  {
    what: 'a body over NCHAT_BODY_LIMIT',
    make: (_p, w) => ({ raw: JSON.stringify({ pad: 'x'.repeat(w.srv.running.config.bodyLimitBytes + 10) }) }),
    status: 413,
    codes: ['PAYLOAD_TOO_LARGE'],
  },
  {
    what: 'a text/plain body',
    make: (p) => ({ raw: JSON.stringify(p.body), type: 'text/plain' }),
    status: 415,
    codes: ['UNSUPPORTED_MEDIA_TYPE'],
  },
  { what: 'broken JSON', make: (p) => ({ raw: JSON.stringify(p.body).slice(0, -1) }), status: 400, codes: ['INVALID_JSON'] },
  {
    what: 'a __proto__ key',
    make: (p) => ({ raw: `${JSON.stringify(p.body).slice(0, -1)},"__proto__":{"role":"owner"}}` }),
    status: 400,
    codes: ['INVALID_JSON', 'VALIDATION_FAILED'],
  },
  {
    what: 'an unknown field',
    make: (p) => ({ raw: JSON.stringify({ ...(p.body as object), isAdmin: true }) }),
    status: 400,
    codes: ['VALIDATION_FAILED'],
  },
  {
    what: 'a JSON array instead of an object',
    make: (p) => ({ raw: JSON.stringify([p.body]) }),
    status: 400,
    codes: ['VALIDATION_FAILED'],
  },
];

await forEachBackend('security: malformed input', (ctx) => {
  let w: World;
  before(async () => {
    w = await buildWorld(ctx.server());
  });
  after(async () => {
    await w?.close();
  });

  const refused = async (key: string, p: Probe, token: string | undefined, method: string, status: number, codes: string[]) => {
    const before = await w.fingerprint();
    const r = await sendProbe(w.srv.running.url, method, p, token);
    const ctx = `${key} → ${r.status} ${JSON.stringify(r.body)?.slice(0, 200)}`;
    assert.equal(r.status, status, ctx);
    assert.ok(codes.includes(r.body?.error?.code), ctx);
    assert.equal(await w.fingerprint(), before, 'a refused request changed stored data');
    assert.equal((await w.srv.api.get('/api/health')).status, 200);
  };

  for (const spec of MATRIX) {
    const key = routeKey(spec.method, spec.path);
    const token = (w: World) => (spec.auth === 'bearer' ? w[spec.actor].token : undefined);
    const body = (w: World) => spec.probe(w).body as Record<string, unknown> | undefined;
    // Routes whose probe has a JSON body with fields (join/leave take none; uploads are multipart).
    const sample = spec.probe(SHAPE);
    if (sample.body && typeof sample.body === 'object' && Object.keys(sample.body).length > 0) {
      for (const row of BODY_ROWS)
        it(`${key} with ${row.what} → ${row.status} ${row.codes.join('|')}, nothing written`, async () => {
          const p = spec.probe(w);
          const m = row.make(p, w);
          await refused(
            key,
            { ...p, body: undefined, raw: { body: Buffer.from(m.raw), type: m.type ?? 'application/json' } },
            token(w),
            spec.method,
            row.status,
            row.codes,
          );
        });
      for (const field of Object.keys(sample.body as object)) {
        it(`${key} with body.${field} of a wrong type → 400 VALIDATION_FAILED, nothing written`, async () => {
          const b = body(w) ?? {};
          await refused(key, { ...spec.probe(w), body: { ...b, [field]: wrongType(b[field]) } }, token(w), spec.method, 400, [
            'VALIDATION_FAILED',
          ]);
        });
        it(`${key} with body.${field} nested 10,000 deep → 400, nothing written`, async () => {
          const raw = `${JSON.stringify({ ...body(w), [field]: null }).replace(`"${field}":null`, `"${field}":${deep(10_000)}`)}`;
          await refused(
            key,
            { ...spec.probe(w), body: undefined, raw: { body: Buffer.from(raw), type: 'application/json' } },
            token(w),
            spec.method,
            400,
            ['VALIDATION_FAILED', 'INVALID_JSON'],
          );
        });
      }
    }
    if (spec.query?.length) {
      const withQuery = (p: Probe, extra: string) => ({ ...p, path: `${p.path}${p.path.includes('?') ? '&' : '?'}${extra}` });
      for (const [what, extra] of [
        ['an unknown query parameter', 'isAdmin=1'],
        ['limit=abc', 'limit=abc'],
        ['limit=-1', 'limit=-1'],
        ['limit=1e9', 'limit=1000000000'],
        ['a repeated parameter', 'limit=1&limit=2'],
      ] as const)
        it(`${key} with ${what} → 400 VALIDATION_FAILED`, async () => {
          await refused(key, withQuery(spec.probe(w), extra), token(w), spec.method, 400, ['VALIDATION_FAILED']);
        });
    }
  }

  // ---- WebSocket ops ----------------------------------------------------------------------------
  /** A valid frame of every client op (alice, her private channel). */
  const VALID: Record<keyof typeof ClientOps, (w: World) => Record<string, unknown>> = {
    send: (w) => ({ op: 'send', channelId: w.priv.id, text: 'hi', clientMsgId: 'mal-1' }),
    typing: (w) => ({ op: 'typing', channelId: w.priv.id }),
    read: (w) => ({ op: 'read', channelId: w.priv.id, seq: 1 }),
    resume: (w) => ({ op: 'resume', positions: { [w.priv.id]: 0 } }),
    ping: () => ({ op: 'ping', t: 1 }),
    presence: () => ({ op: 'presence', status: 'away' }),
    'presence.query': (w) => ({ op: 'presence.query', channelId: w.priv.id }),
  };

  it('every client op of the protocol has a row here', () => {
    assert.deepEqual(Object.keys(VALID).sort(), Object.keys(ClientOps).sort());
  });

  /** Sends one frame on a fresh socket; the error it causes (matched by ref). */
  const wsRefused = async (frame: string, code: string | string[]) => {
    const c = await connect(w.srv.running.url, w.alice.token);
    try {
      const before = await w.fingerprint();
      c.sendRaw(frame);
      const e = await c.next((e) => e.type === 'error');
      assert.ok([code].flat().includes(e.code), JSON.stringify(e));
      assert.ok(!c.events.some((x) => x.type === 'ack'), 'refused frame was acked');
      assert.equal(await w.fingerprint(), before, 'a refused frame changed stored data');
    } finally {
      c.ws.terminate();
    }
  };

  for (const [op, make] of Object.entries(VALID)) {
    it(`ws ${op} with an unknown field → error VALIDATION_FAILED, nothing written`, async () => {
      await wsRefused(JSON.stringify({ ...make(w), isAdmin: true, ref: 'm' }), 'VALIDATION_FAILED');
    });
    const fields = Object.keys(make(SHAPE)).filter((f) => f !== 'op');
    for (const f of fields) {
      it(`ws ${op} with ${f} of a wrong type → error VALIDATION_FAILED, nothing written`, async () => {
        const v = make(w);
        await wsRefused(JSON.stringify({ ...v, [f]: wrongType(v[f]), ref: 'm' }), 'VALIDATION_FAILED');
      });
      it(`ws ${op} with ${f} nested 10,000 deep → error, nothing written`, async () => {
        const raw = JSON.stringify({ ...make(w), [f]: null, ref: 'm' }).replace(`"${f}":null`, `"${f}":${deep(10_000)}`);
        await wsRefused(raw, ['VALIDATION_FAILED', 'INVALID_JSON']);
      });
    }
  }
  it('ws: an unknown op → error UNKNOWN_OP', async () => {
    await wsRefused(JSON.stringify({ op: 'admin.deleteAll', ref: 'm' }), 'UNKNOWN_OP');
  });
  it('ws: broken JSON → error INVALID_JSON', async () => {
    await wsRefused('{"op":"send",', 'INVALID_JSON');
  });
  it('ws: a __proto__ key → error, nothing written', async () => {
    await wsRefused(`{"op":"send","channelId":"${w.priv.id}","text":"x","clientMsgId":"p1","__proto__":{"x":1}}`, [
      'INVALID_JSON',
      'VALIDATION_FAILED',
    ]);
  });
  it('ws: a frame over NCHAT_WS_MAX_PAYLOAD closes the socket with 1009, nothing written', async () => {
    const c = await connect(w.srv.running.url, w.alice.token);
    const before = await w.fingerprint();
    c.send({ ...VALID.send(w), text: 'x'.repeat(w.srv.running.config.wsMaxPayload + 10), clientMsgId: 'big-1' });
    const closed = await c.closed;
    assert.equal(closed.code, 1009);
    assert.equal(await w.fingerprint(), before);
  });
});
