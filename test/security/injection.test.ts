// Security matrix, injection: SQL and full-text-search syntax in every free-text body field and
// query parameter of the matrix (stored and returned literally, or refused with a 4xx and a code;
// never a 500, nothing else changed); LIKE wildcards in the user directory; search syntax that
// tries to reach a channel one is not in; CR/LF in file names that reach Content-Disposition;
// path traversal and SQL in every id of every route, and in the report and file routes.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { forEachBackend } from '../helpers/server.js';
import { getBytes } from '../helpers/files.js';
import { MATRIX, routeKey, sendProbe, type Probe } from './matrix.js';
import { buildWorld, type World } from './world.js';
import { connect, rawGet } from './ws-util.js';

/** Hostile text: SQL (both dialects), LIKE wildcards, FTS5 and tsquery syntax, NUL. */
export const PAYLOADS: Array<[string, string]> = [
  ['SQL quote', "' OR '1'='1"],
  ['SQL stacked DROP', "x'); DROP TABLE messages; --"],
  ['SQL double quote', '" OR 1=1; --'],
  ['SQL comment and UNION', "1' UNION SELECT password_hash FROM users --"],
  ['PostgreSQL sleep', "'; SELECT pg_sleep(5); --"],
  ['LIKE wildcards', "%_%' ESCAPE '"],
  ['FTS5 syntax', 'NEAR(a b, 2) OR * AND "unterminated text: ^x {col}: y'],
  ['tsquery syntax', "a & !b | c <-> d:* ( ' ) \\"],
  ['NUL byte', 'a\u0000b'],
  ['backslashes', '\\\\x00 \\\' \\" \\n'],
];

let n = 0;
/** The probe with one field replaced; a send gets a fresh clientMsgId (a repeat would return the original). */
const setField = (p: Probe, field: string, value: string): Probe => {
  const body: Record<string, unknown> = { ...(p.body as object), [field]: value };
  if ('clientMsgId' in body && field !== 'clientMsgId') body.clientMsgId = `inj-field-${n++}`;
  return { ...p, body };
};
const setQuery = (p: Probe, name: string, value: string): Probe => {
  const u = new URL(`http://x${p.path}`);
  u.searchParams.set(name, value);
  return { ...p, path: u.pathname + u.search };
};

await forEachBackend('security: injection', (ctx) => {
  let w: World;
  before(async () => {
    w = await buildWorld(ctx.server());
  });
  after(async () => {
    await w?.close();
  });

  /** The stored data is intact: alice still reads her channel and the secret message in it. */
  const intact = async () => {
    const r = await w.alice.api.get(`/api/messages/${w.msg.id}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.text.includes(w.secretWord));
    assert.ok((await w.owner.api.get('/api/users?limit=100')).body.users.length >= 6);
  };

  for (const spec of MATRIX) {
    const key = routeKey(spec.method, spec.path);
    for (const field of spec.strings ?? [])
      for (const [what, payload] of PAYLOADS)
        it(`${key} body.${field} = ${what} → stored literally or 4xx with a code; never a 500`, async () => {
          const before = await w.fingerprint();
          const r = await sendProbe(w.srv.running.url, spec.method, setField(spec.probe(w), field, payload), w[spec.actor].token);
          const ctx = `${r.status} ${JSON.stringify(r.body)?.slice(0, 300)}`;
          assert.ok(r.status < 500, ctx);
          if (r.status >= 400) {
            assert.equal(typeof r.body?.error?.code, 'string', ctx);
            assert.equal(await w.fingerprint(), before, `refused (${ctx}) but stored data changed`);
          } else if (r.body && typeof r.body === 'object' && field in r.body) {
            assert.equal(r.body[field], payload, `not stored literally: ${ctx}`);
          }
          await intact();
        });
    for (const name of spec.query ?? [])
      for (const [what, payload] of PAYLOADS)
        it(`${key} ?${name}= ${what} → 200 or 400 with a code; never a 500, nothing written`, async () => {
          const before = await w.fingerprint();
          const r = await sendProbe(w.srv.running.url, spec.method, setQuery(spec.probe(w), name, payload), w[spec.actor].token);
          const ctx = `${r.status} ${JSON.stringify(r.body)?.slice(0, 300)}`;
          assert.ok(r.status === 200 || (r.status === 400 && typeof r.body?.error?.code === 'string'), ctx);
          assert.equal(await w.fingerprint(), before);
          await intact();
        });
  }

  for (const q of ['%', '_', '%25', "' OR ''='"])
    it(`GET /api/users?q=${q} matches names that start with it, not everyone`, async () => {
      const r = await w.alice.api.get(`/api/users?q=${encodeURIComponent(q)}&limit=100`);
      if (r.status === 400) return assert.equal(r.body.error.code, 'VALIDATION_FAILED');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.users, [], 'a wildcard listed users whose names do not start with it');
    });

  // Search syntax that would widen the query past the caller's channels if it reached the engine.
  for (const q of ['"{secret}" OR *', '{secret} OR 1=1', '{secret}) OR (a', 'in:#{chan} {secret}', '{secret}* | !x', '* {secret}'])
    it(`search as bob: ${q} finds nothing of the private channel`, async () => {
      const text = q.replaceAll('{secret}', w.secretWord).replaceAll('{chan}', w.priv.name);
      for (const path of [`/api/search?q=${encodeURIComponent(text)}`, `/api/search/suggest?q=${encodeURIComponent(text)}`]) {
        const r = await w.bob.api.get(path);
        assert.ok(r.status === 200 || r.status === 400, `${path} → ${r.status} ${JSON.stringify(r.body)}`);
        assert.ok(!JSON.stringify(r.body).includes(w.secretWord.slice(3)), `${path} leaked: ${JSON.stringify(r.body)}`);
      }
    });

  it('ws send with every payload: acked and stored literally (or refused with a code)', async () => {
    const c = await connect(w.srv.running.url, w.alice.token);
    try {
      for (const [i, [what, text]] of PAYLOADS.entries()) {
        c.send({ op: 'send', channelId: w.priv.id, text, clientMsgId: `inj-${i}` });
        const e = await c.next((e) => (e.type === 'ack' && e.clientMsgId === `inj-${i}`) || (e.type === 'error' && e.ref === `inj-${i}`));
        if (e.type === 'error') {
          assert.equal(typeof e.code, 'string', what);
          continue;
        }
        assert.equal((await w.alice.api.get(`/api/messages/${e.id}`)).body.text, text, what);
      }
      await intact();
    } finally {
      c.ws.terminate();
    }
  });

  // File names reach Content-Disposition: CR/LF must never become header lines.
  const evilNames = [
    'a\r\nSet-Cookie: pwn=1\r\nX-Evil: 1.png',
    'b\nLocation: //evil.test.png',
    'c\r\n\r\n<html>.txt',
    '"; filename=evil.exe; x=".txt',
  ];
  for (const name of evilNames)
    it(`upload named ${JSON.stringify(name)}: the download's headers hold no injected line`, async () => {
      const boundary = 'secB0undary';
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8''${encodeURIComponent(name)}\r\n`),
        Buffer.from(`Content-Type: application/octet-stream\r\n\r\nhello\r\n--${boundary}--\r\n`),
      ]);
      const up = await sendProbe(
        w.srv.running.url,
        'POST',
        { path: '/api/files', raw: { body, type: `multipart/form-data; boundary=${boundary}` } },
        w.alice.token,
      );
      if (up.status !== 201) return assert.ok(up.status === 400 && typeof up.body?.error?.code === 'string', JSON.stringify(up.body));
      const r = await getBytes(w.srv.running.url, w.alice, `/api/files/${up.body.id}`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('set-cookie'), null);
      assert.equal(r.headers.get('x-evil'), null);
      assert.equal(r.headers.get('location'), null);
      const cd = r.headers.get('content-disposition') ?? '';
      assert.ok(!/[\r\n]/.test(cd), cd);
      assert.match(cd, /^attachment; filename="[^"\\\r\n]*"(; filename\*=UTF-8''[A-Za-z0-9%!#$&+.^_`|~-]*)?$/, cd);
      assert.equal(r.bytes.toString(), 'hello');
    });

  it('tus Upload-Metadata filename with CR/LF: the finished file is served without injected header lines', async () => {
    const name = Buffer.from('t\r\nSet-Cookie: pwn=1\r\n.txt').toString('base64');
    const url = w.srv.running.url;
    const auth = { authorization: `Bearer ${w.alice.token}`, 'tus-resumable': '1.0.0' };
    const c = await fetch(`${url}/api/files/tus`, {
      method: 'POST',
      headers: { ...auth, 'upload-length': '5', 'upload-metadata': `filename ${name}` },
    });
    if (c.status === 400) return assert.equal(typeof ((await c.json()) as any).error.code, 'string');
    assert.equal(c.status, 201, await c.text());
    const loc = c.headers.get('location') ?? '';
    const p = await fetch(new URL(loc, url), {
      method: 'PATCH',
      headers: { ...auth, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body: 'hello',
    });
    assert.equal(p.status, 204, await p.text());
    const fileId = p.headers.get('nchat-file-id');
    assert.ok(fileId, 'the finishing PATCH names the stored file (Nchat-File-Id)');
    const r = await getBytes(url, w.alice, `/api/files/${fileId}`);
    assert.equal(r.status, 200);
    assert.equal(r.bytes.toString(), 'hello');
    assert.equal(r.headers.get('set-cookie'), null);
    assert.ok(!/[\r\n]/.test(r.headers.get('content-disposition') ?? ''));
  });

  // Path traversal and SQL in ids: every path parameter of every GET route, sent byte for byte.
  const TRAVERSAL = [
    '..%2F..%2Fnchat.db',
    '%2e%2e%2f%2e%2e%2fpackage.json',
    '..%5C..%5Cnchat.db',
    '..',
    '%2e%2e',
    "'%20OR%20'1'='1",
    '%00',
    'a%0d%0aSet-Cookie:x=1',
  ];
  for (const spec of MATRIX.filter((s) => s.method === 'GET' && s.path.includes('{')))
    for (const param of spec.path.match(/\{[^}]+\}/g) ?? [])
      for (const t of TRAVERSAL)
        it(`GET ${spec.path} with ${param} = ${t} → 400/404 with a code, nothing served`, async () => {
          const path = spec.path.replace(/\{[^}]+\}/g, (m) =>
            m === param ? t : m === '{emoji}' ? 'thumbsup' : m === '{run}' ? 'run1' : m === '{file}' ? 'report.md' : w.priv.id,
          );
          const r = await rawGet(w.srv.running.url, path, w.owner.token);
          const ctx = `${path} → ${r.status} ${r.body.slice(0, 200)}`;
          assert.ok(r.status === 400 || r.status === 404, ctx);
          assert.match(JSON.parse(r.body).error.code, /^(VALIDATION_FAILED|NOT_FOUND|BAD_REQUEST)$/, ctx);
          assert.ok(!r.body.includes('SQLite format') && !r.body.includes('"dependencies"'), ctx);
          assert.equal(r.headers['set-cookie'], undefined, ctx);
        });

  for (const path of [
    '/api/files/../../package.json',
    '/api/admin/reports/../../package.json',
    '/api/admin/reports/run1/../../../package.json',
    '/api/files/tus/../../../nchat.db',
  ])
    it(`GET ${path} (unnormalized dot segments) → no file outside the store is served`, async () => {
      const r = await rawGet(w.srv.running.url, path, w.owner.token);
      assert.ok(r.status >= 400 && r.status < 500, `${r.status} ${r.body.slice(0, 200)}`);
      assert.ok(!r.body.includes('SQLite format') && !r.body.includes('"dependencies"'), r.body.slice(0, 200));
    });
});
