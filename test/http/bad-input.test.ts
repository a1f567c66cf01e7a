// Bad input, every class, on SQLite and PostgreSQL: each request gets a 4xx with the contract's
// error shape and a code — never a 500 — and nothing is half-written: after a rejected send the
// channel's lastSeq and history are unchanged; after a rejected signup no such user exists.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { forEachBackend, unique, type Reply, type TestServer, type TestUser } from '../helpers/server.js';
import { assertError, createChannel, ok, send } from './util.js';

const euro = '€'; // 1 code point, 3 UTF-8 bytes
const grin = '😀'; // 1 code point, 2 UTF-16 units, 4 UTF-8 bytes

await forEachBackend('bad input', (ctx) => {
  let srv: TestServer;
  let ann: TestUser;
  let ch: { id: string; name: string };
  let root: { id: string };

  before(async () => {
    srv = ctx.server();
    ann = await srv.user('ann');
    ch = await createChannel(ann.api, unique('bad'));
    root = await send(ann.api, ch.id, 'first');
    await send(ann.api, ch.id, 'second');
  });

  /** lastSeq + the full history: what a rejected request must leave untouched. */
  const snapshot = async () => {
    const c = ok(await ann.api.get(`/api/channels/${ch.id}`));
    const h = ok(await ann.api.get(`/api/channels/${ch.id}/messages?limit=200`)).messages;
    return { lastSeq: c.lastSeq, history: h.map((m: any) => [m.id, m.seq, m.text, m.editedAt, m.replyCount]) };
  };

  /** Runs each rejected send and checks status/code and that the channel did not change. */
  const rejectSends = async (cases: Array<[string, () => Promise<Reply>, number, string]>) => {
    const before = await snapshot();
    for (const [what, run, status, code] of cases) {
      assertError(await run(), status, code, what);
      assert.deepEqual(await snapshot(), before, `${what}: the channel changed`);
    }
  };

  const msgs = () => `/api/channels/${ch.id}/messages`;
  const rawSend = (raw: string, headers?: Record<string, string>) => ann.api.req('POST', msgs(), undefined, { raw, headers });

  /** Signup that must be refused, and leave no account behind. */
  const rejectSignup = async (what: string, body: unknown, status: number, code: string, opts: { raw?: string } = {}) => {
    const username = (body as any)?.username as string;
    assertError(
      opts.raw === undefined
        ? await srv.api.post('/api/auth/signup', body)
        : await srv.api.req('POST', '/api/auth/signup', undefined, { raw: opts.raw }),
      status,
      code,
      what,
    );
    if (typeof username === 'string' && username.length > 0) {
      if (/^[A-Za-z0-9._-]+$/.test(username)) {
        const found = ok(await ann.api.get(`/api/users?q=${encodeURIComponent(username.slice(0, 60))}`)).users.filter(
          (u: any) => u.username === username.toLowerCase(),
        );
        assert.deepEqual(found, [], `${what}: a user was created`);
      }
      assertError(
        await srv.api.post('/api/auth/signin', { login: username.slice(0, 254), password: 'correct horse battery' }),
        401,
        'INVALID_CREDENTIALS',
        `${what}: signin`,
      );
    }
  };
  const signup = (username: string, extra: Record<string, unknown> = {}) => ({
    email: `${username}@example.test`,
    username,
    password: 'correct horse battery',
    ...extra,
  });

  it('unknown fields → 400 VALIDATION_FAILED, nothing written', async () => {
    await rejectSends([
      ['extra field on send', () => ann.api.post(msgs(), { text: 'hi', pinned: true }), 400, 'VALIDATION_FAILED'],
      ['unknown query field on history', () => ann.api.get(`${msgs()}?order=asc`), 400, 'VALIDATION_FAILED'],
    ]);
    const name = unique('unk');
    assertError(
      await ann.api.post('/api/channels', { name, type: 'public', color: 'red' }),
      400,
      'VALIDATION_FAILED',
      'extra field on create',
    );
    assert.equal(
      ok(await ann.api.get('/api/channels?browse=public')).channels.filter((c: any) => c.name === name).length,
      0,
      'channel half-created',
    );
    assert.equal(ok(await ann.api.post('/api/channels', { name, type: 'public' }), 201).name, name, 'the name stayed free');
    await rejectSignup('extra field on signup', signup(unique('unk'), { role: 'owner' }), 400, 'VALIDATION_FAILED');
    // A conflict is rejected whole too: a taken e-mail leaves no account under the new name.
    await rejectSignup(
      'taken e-mail',
      { ...signup(unique('dupe')), email: `${ann.username.toUpperCase()}@example.test` },
      409,
      'EMAIL_TAKEN',
    );
    assertError(await ann.api.patch('/api/users/me', { role: 'owner' }), 400, 'VALIDATION_FAILED', 'role via PATCH me');
    assertError(await ann.api.patch('/api/users/me', {}), 400, 'VALIDATION_FAILED', 'empty PATCH me');
    assert.equal(ok(await ann.api.get('/api/users/me')).role, 'member');
  });

  it('wrong types → 400 VALIDATION_FAILED (no coercion of bodies), nothing written', async () => {
    await rejectSends([
      ['text: 123', () => ann.api.post(msgs(), { text: 123 }), 400, 'VALIDATION_FAILED'],
      ['text: null', () => ann.api.post(msgs(), { text: null }), 400, 'VALIDATION_FAILED'],
      ['text: ["a"]', () => ann.api.post(msgs(), { text: ['a'] }), 400, 'VALIDATION_FAILED'],
      ['text: {}', () => ann.api.post(msgs(), { text: {} }), 400, 'VALIDATION_FAILED'],
      ['missing text', () => ann.api.post(msgs(), { clientMsgId: 'x1' }), 400, 'VALIDATION_FAILED'],
      ['clientMsgId: 5', () => ann.api.post(msgs(), { text: 'hi', clientMsgId: 5 }), 400, 'VALIDATION_FAILED'],
      ['parentId: true', () => ann.api.post(msgs(), { text: 'hi', parentId: true }), 400, 'VALIDATION_FAILED'],
      ['body is an array', () => rawSend('[{"text":"hi"}]'), 400, 'VALIDATION_FAILED'],
      ['body is null', () => rawSend('null'), 400, 'VALIDATION_FAILED'],
      ['body is a string', () => rawSend('"hi"'), 400, 'VALIDATION_FAILED'],
      ['limit=abc', () => ann.api.get(`${msgs()}?limit=abc`), 400, 'VALIDATION_FAILED'],
      ['read seq: "5"', () => ann.api.post(`/api/channels/${ch.id}/read`, { seq: '5' }), 400, 'VALIDATION_FAILED'],
      ['read seq: 1.5', () => ann.api.post(`/api/channels/${ch.id}/read`, { seq: 1.5 }), 400, 'VALIDATION_FAILED'],
    ]);
    const cat = await srv.user('cat');
    assertError(await ann.api.post(`/api/channels/${ch.id}/members`, { userIds: 'x' }), 400, 'VALIDATION_FAILED', 'userIds: "x"');
    assertError(
      await ann.api.post(`/api/channels/${ch.id}/members`, { userIds: cat.id }),
      400,
      'VALIDATION_FAILED',
      'userIds: one id as a string',
    );
    assertError(await ann.api.post('/api/dms', { userIds: 'x' }), 400, 'VALIDATION_FAILED', 'dms userIds: "x"');
    assertError(await ann.api.post('/api/dms', { userIds: [42] }), 400, 'VALIDATION_FAILED', 'dms userIds: [42]');
    assertError(await ann.api.post('/api/channels', { name: unique('t'), type: 'secret' }), 400, 'VALIDATION_FAILED', 'type: secret');
    assertError(await ann.api.get('/api/users?limit=abc'), 400, 'VALIDATION_FAILED', 'users limit=abc');
    assertError(await ann.api.get('/api/notifications?unread=maybe'), 400, 'VALIDATION_FAILED', 'unread=maybe');
    assert.equal(ok(await ann.api.get(`/api/channels/${ch.id}/members`)).members.length, 1, 'a member was added');
    await rejectSignup(
      'username: 5',
      { email: 'five@example.test', username: 5, password: 'correct horse battery' },
      400,
      'VALIDATION_FAILED',
    );
  });

  it('message text: 16,384 UTF-8 bytes accepted, 16,385 → 400 TEXT_TOO_LONG even under 16,384 code points', async () => {
    const over = euro.repeat(5461) + 'aa'; // 16,385 bytes, 5,463 code points
    const overEmoji = grin.repeat(4096) + 'a'; // 16,385 bytes, 4,097 code points (8,193 UTF-16 units)
    assert.equal(Buffer.byteLength(over), 16385);
    assert.equal(Buffer.byteLength(overEmoji), 16385);
    await rejectSends([
      ['16,385 bytes (3-byte chars)', () => ann.api.post(msgs(), { text: over }), 400, 'TEXT_TOO_LONG'],
      ['16,385 bytes (4-byte chars)', () => ann.api.post(msgs(), { text: overEmoji }), 400, 'TEXT_TOO_LONG'],
      ['edit to 16,385 bytes', () => ann.api.patch(`/api/messages/${root.id}`, { text: over }), 400, 'TEXT_TOO_LONG'],
    ]);
    // 16,385 ASCII characters trips the schema's code-point cap first: still TEXT_TOO_LONG.
    await rejectSends([
      ['16,385 ASCII chars', () => ann.api.post(msgs(), { text: 'a'.repeat(16385) }), 400, 'TEXT_TOO_LONG'],
      ['edit to 16,385 ASCII chars', () => ann.api.patch(`/api/messages/${root.id}`, { text: 'a'.repeat(16385) }), 400, 'TEXT_TOO_LONG'],
    ]);

    const before = await snapshot();
    const exact = euro.repeat(5461) + 'a'; // 16,384 bytes
    const exactEmoji = grin.repeat(4096); // 16,384 bytes
    const m1 = await send(ann.api, ch.id, exact);
    const m2 = await send(ann.api, ch.id, exactEmoji);
    assert.equal(m1.seq, before.lastSeq + 1);
    assert.equal(m2.seq, before.lastSeq + 2);
    assert.equal(ok(await ann.api.get(`/api/messages/${m1.id}`)).text, exact, 'text round-trips byte for byte');
    assert.equal(ok(await ann.api.get(`/api/messages/${m2.id}`)).text, exactEmoji);
  });

  it('names over their limits → 400 VALIDATION_FAILED', async () => {
    await rejectSignup('username of 33 chars', signup('u'.repeat(33)), 400, 'VALIDATION_FAILED');
    await rejectSignup('displayName of 65 chars', signup(unique('long'), { displayName: 'd'.repeat(65) }), 400, 'VALIDATION_FAILED');
    await rejectSignup('password of 257 chars', { ...signup(unique('long')), password: 'p'.repeat(257) }, 400, 'VALIDATION_FAILED');
    await rejectSignup('password of 7 chars', { ...signup(unique('short')), password: 'p'.repeat(7) }, 400, 'VALIDATION_FAILED');
    await rejectSignup(
      'email of 255 chars',
      { ...signup(unique('long')), email: `${'e'.repeat(242)}@example.test` },
      400,
      'VALIDATION_FAILED',
    );
    const longName = 'c'.repeat(81);
    assertError(await ann.api.post('/api/channels', { name: longName, type: 'public' }), 400, 'VALIDATION_FAILED', 'channel name of 81');
    assertError(
      await ann.api.post('/api/channels', { name: unique('c'), type: 'public', description: 'x'.repeat(1001) }),
      400,
      'VALIDATION_FAILED',
      'description of 1001',
    );
    assertError(await ann.api.patch(`/api/channels/${ch.id}`, { topic: 't'.repeat(1001) }), 400, 'VALIDATION_FAILED', 'topic of 1001');
    assertError(await ann.api.patch(`/api/channels/${ch.id}`, { name: longName }), 400, 'VALIDATION_FAILED', 'rename to 81');
    assertError(await ann.api.patch('/api/users/me', { displayName: 'd'.repeat(65) }), 400, 'VALIDATION_FAILED', 'displayName of 65');
    assertError(await ann.api.patch('/api/users/me', { status: 's'.repeat(101) }), 400, 'VALIDATION_FAILED', 'status of 101');
    await rejectSends([
      ['clientMsgId of 65', () => ann.api.post(msgs(), { text: 'hi', clientMsgId: 'k'.repeat(65) }), 400, 'VALIDATION_FAILED'],
    ]);
    const c = ok(await ann.api.get(`/api/channels/${ch.id}`));
    assert.equal(c.name, ch.name);
    assert.equal(c.topic, '');
    assert.equal(ok(await ann.api.get('/api/users/me')).displayName, ann.username);
    // At the limits, accepted.
    assert.equal(ok(await ann.api.post('/api/channels', { name: 'c'.repeat(80), type: 'public' }), 201).name, 'c'.repeat(80));
    assert.equal(ok(await ann.api.patch('/api/users/me', { displayName: 'd'.repeat(64) })).displayName, 'd'.repeat(64));
  });

  it('invalid Unicode (lone surrogates, invalid UTF-8) in body, query and path → 400 with a code', async () => {
    await rejectSends([
      ['lone high surrogate in text', () => ann.api.post(msgs(), { text: 'hi \uD800 there' }), 400, 'INVALID_UNICODE'],
      ['lone low surrogate in text', () => ann.api.post(msgs(), { text: '\uDC00' }), 400, 'INVALID_UNICODE'],
      ['escaped surrogate in raw JSON', () => rawSend('{"text":"x\\ud83d"}'), 400, 'INVALID_UNICODE'],
      ['surrogate in a key', () => rawSend('{"text":"x","\\ud800":1}'), 400, 'INVALID_UNICODE'],
      ['edit with a lone surrogate', () => ann.api.patch(`/api/messages/${root.id}`, { text: 'a\uD800' }), 400, 'INVALID_UNICODE'],
    ]);
    assertError(await ann.api.patch('/api/users/me', { displayName: 'Ann \uD800' }), 400, 'INVALID_UNICODE', 'displayName');
    await rejectSignup('signup displayName', signup(unique('sur'), { displayName: '\uDBFF' }), 400, 'INVALID_UNICODE');
    assert.equal(ok(await ann.api.get('/api/users/me')).displayName.includes('\uFFFD'), false);
    // In a query string: %ED%A0%80 is U+D800 encoded like UTF-8 (not valid UTF-8); %FF is no UTF-8 at all.
    for (const path of [
      '/api/users?q=%ED%A0%80',
      '/api/users?q=a%ED%A0%80b',
      '/api/users?q=%FF',
      `${msgs()}?limit=%ED%A0%80`,
      '/api/notifications?cursor=%C0%80',
    ]) {
      assertError(await ann.api.get(path), 400, 'INVALID_UNICODE', path);
    }
    // A surrogate pair encoded as two 3-byte sequences (CESU-8) is not UTF-8 either.
    assertError(await ann.api.get('/api/users?q=%ED%A0%BD%ED%B8%80'), 400, 'INVALID_UNICODE', 'CESU-8 query');
    assert.equal(ok(await ann.api.get(`/api/users?q=${encodeURIComponent('é😀')}`)).users.length, 0, 'valid UTF-8 query accepted');
    // In a path parameter the router refuses it before any handler: 400 BAD_REQUEST, contract shape.
    await rejectSends([
      ['surrogate in emoji param', () => ann.api.put(`/api/messages/${root.id}/reactions/%ED%A0%80`), 400, 'BAD_REQUEST'],
      ['0xFF in emoji param', () => ann.api.put(`/api/messages/${root.id}/reactions/%FF`), 400, 'BAD_REQUEST'],
      ['U+202E as emoji', () => ann.api.put(`/api/messages/${root.id}/reactions/%E2%80%AE`), 400, 'VALIDATION_FAILED'],
      ['surrogate in channel id', () => ann.api.post('/api/channels/%ED%A0%80/messages', { text: 'x' }), 400, 'BAD_REQUEST'],
    ]);
    assert.deepEqual(ok(await ann.api.get(`/api/messages/${root.id}`)).reactions, []);
    // Invalid UTF-8 bytes in a body are refused, not stored as U+FFFD.
    const bytes = (parts: Array<string | number[]>) =>
      Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    const post = (body: Buffer) =>
      fetch(srv.api.url + msgs(), {
        method: 'POST',
        headers: { authorization: `Bearer ${ann.token}`, 'content-type': 'application/json' },
        body,
      }).then(async (r) => ({ status: r.status, body: JSON.parse(await r.text()), headers: r.headers }));
    await rejectSends([
      ['0xFF byte in body', () => post(bytes(['{"text":"a', [0xff], '"}'])), 400, 'INVALID_UNICODE'],
      ['raw UTF-8-encoded surrogate in body', () => post(bytes(['{"text":"a', [0xed, 0xa0, 0x80], '"}'])), 400, 'INVALID_UNICODE'],
      ['overlong encoding in body', () => post(bytes(['{"text":"a', [0xc0, 0xaf], '"}'])), 400, 'INVALID_UNICODE'],
      ['truncated sequence in body', () => post(bytes(['{"text":"a', [0xe2, 0x82], '"}'])), 400, 'INVALID_UNICODE'],
    ]);
  });

  it('control and bidi-override characters in names → 400 VALIDATION_FAILED', async () => {
    const bad: Array<[string, () => Promise<Reply>]> = [
      ['displayName with U+202E', () => ann.api.patch('/api/users/me', { displayName: 'evil\u202Etxt.exe' })],
      ['displayName with U+0000', () => ann.api.patch('/api/users/me', { displayName: 'nul\u0000' })],
      ['displayName with newline', () => ann.api.patch('/api/users/me', { displayName: 'two\nlines' })],
      ['displayName with U+200B', () => ann.api.patch('/api/users/me', { displayName: 'zero\u200Bwidth' })],
      ['status with U+2066', () => ann.api.patch('/api/users/me', { status: 'away \u2066x' })],
      ['status with U+0085 (C1)', () => ann.api.patch('/api/users/me', { status: 'nel\u0085' })],
      ['channel name with U+0007', () => ann.api.post('/api/channels', { name: `bell\u0007${unique('x')}`, type: 'public' })],
      ['channel name with U+202E', () => ann.api.post('/api/channels', { name: `rlo\u202E${unique('x')}`, type: 'public' })],
      ['channel topic with U+202D', () => ann.api.patch(`/api/channels/${ch.id}`, { topic: 'a\u202Db' })],
      ['channel rename with U+0007', () => ann.api.patch(`/api/channels/${ch.id}`, { name: 'bell\u0007' })],
      ['user search with U+202E', () => ann.api.get(`/api/users?q=${encodeURIComponent('a\u202E')}`)],
    ];
    for (const [what, run] of bad) assertError(await run(), 400, 'VALIDATION_FAILED', what);
    await rejectSignup('signup displayName with U+202E', signup(unique('bidi'), { displayName: 'x\u202Ey' }), 400, 'VALIDATION_FAILED');
    await rejectSignup(
      'signup username with U+202E',
      { ...signup(unique('bidi')), username: `ab\u202E${unique('c')}` },
      400,
      'VALIDATION_FAILED',
    );
    await rejectSignup(
      'signup username with U+0007',
      { ...signup(unique('bell')), username: `ab\u0007${unique('c')}` },
      400,
      'VALIDATION_FAILED',
    );
    const me = ok(await ann.api.get('/api/users/me'));
    assert.ok(!/[\u0000-\u001f\u0085\u200b\u202e\u2066]/.test(`${me.displayName}${me.status ?? ''}`), 'a bad name was stored');
    const c = ok(await ann.api.get(`/api/channels/${ch.id}`));
    assert.equal(c.name, ch.name);
    assert.ok(!/[\u0007\u202d]/.test(c.topic));
  });

  it('malformed JSON → 400 INVALID_JSON, nothing written', async () => {
    await rejectSends([
      ['truncated', () => rawSend('{"text":"hi"'), 400, 'INVALID_JSON'],
      ['trailing garbage', () => rawSend('{"text":"hi"} x'), 400, 'INVALID_JSON'],
      ['single quotes', () => rawSend("{'text':'hi'}"), 400, 'INVALID_JSON'],
      ['trailing comma', () => rawSend('{"text":"hi",}'), 400, 'INVALID_JSON'],
      ['bare word', () => rawSend('hello'), 400, 'INVALID_JSON'],
      ['empty body with JSON type', () => rawSend(''), 400, 'INVALID_JSON'],
      ['NaN', () => rawSend('{"text":NaN}'), 400, 'INVALID_JSON'],
    ]);
    await rejectSignup('truncated signup', { username: 'x' }, 400, 'INVALID_JSON', { raw: '{"email":"a@b.test","username":"trunc' });
  });

  it('__proto__ and constructor.prototype payloads → 400, nothing written, nothing polluted', async () => {
    await rejectSends([
      ['__proto__ on send', () => rawSend('{"text":"hi","__proto__":{"polluted":"yes"}}'), 400, 'INVALID_JSON'],
      ['nested __proto__', () => rawSend('{"text":"hi","fileIds":[{"__proto__":{"polluted":"yes"}}]}'), 400, 'INVALID_JSON'],
      ['constructor.prototype on send', () => rawSend('{"text":"hi","constructor":{"prototype":{"polluted":"yes"}}}'), 400, 'INVALID_JSON'],
    ]);
    const name = unique('proto');
    await rejectSignup('__proto__ role on signup', { username: name }, 400, 'INVALID_JSON', {
      raw: `{"email":"${name}@example.test","username":"${name}","password":"correct horse battery","__proto__":{"role":"owner"}}`,
    });
    assertError(
      await ann.api.req('PATCH', '/api/users/me', undefined, { raw: '{"displayName":"x","__proto__":{"role":"owner"}}' }),
      400,
      'INVALID_JSON',
      'PATCH me',
    );
    assertError(
      await ann.api.req('PATCH', '/api/users/me', undefined, { raw: '{"displayName":"x","constructor":{"prototype":{"role":"owner"}}}' }),
      400,
      'INVALID_JSON',
      'PATCH me constructor',
    );
    // The server runs in this process: a polluted Object.prototype would show here.
    assert.equal(({} as any).polluted, undefined);
    assert.equal(({} as any).role, undefined);
    assert.equal(ok(await ann.api.get('/api/users/me')).role, 'member');
  });

  it('a body over the limit → 413 PAYLOAD_TOO_LARGE; a wrong content type → 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const huge = `{"text":"${'a'.repeat(300 * 1024)}"}`; // default limit: 256 KiB
    await rejectSends([
      ['300 KiB body', () => rawSend(huge), 413, 'PAYLOAD_TOO_LARGE'],
      ['text/plain', () => rawSend('{"text":"hi"}', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['form-urlencoded', () => rawSend('text=hi', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [
        'multipart',
        () =>
          rawSend('--b\r\nContent-Disposition: form-data; name="text"\r\n\r\nhi\r\n--b--\r\n', {
            'content-type': 'multipart/form-data; boundary=b',
          }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['application/xml', () => rawSend('<text>hi</text>', { 'content-type': 'application/xml' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ]);
    await rejectSignup('huge signup', { username: 'x' }, 413, 'PAYLOAD_TOO_LARGE', {
      raw: `{"email":"a@b.test","username":"hugeone","password":"${'p'.repeat(300 * 1024)}"}`,
    });
    // JSON with a charset parameter is fine.
    const m = ok(await rawSend('{"text":"with charset"}', { 'content-type': 'application/json; charset=utf-8' }), 201);
    assert.equal(m.text, 'with charset');
  });

  it('empty or whitespace-only text → 400 VALIDATION_FAILED, nothing written', async () => {
    await rejectSends([
      ['empty', () => ann.api.post(msgs(), { text: '' }), 400, 'VALIDATION_FAILED'],
      ['spaces', () => ann.api.post(msgs(), { text: '    ' }), 400, 'VALIDATION_FAILED'],
      ['whitespace mix', () => ann.api.post(msgs(), { text: ' \n\t\r\u00a0\u3000 ' }), 400, 'VALIDATION_FAILED'],
      ['NUL', () => ann.api.post(msgs(), { text: 'a\u0000b' }), 400, 'VALIDATION_FAILED'],
      ['edit to blank', () => ann.api.patch(`/api/messages/${root.id}`, { text: ' ' }), 400, 'VALIDATION_FAILED'],
    ]);
  });

  it('invalid ids in params → 400 VALIDATION_FAILED; well-formed unknown ids → 404 NOT_FOUND', async () => {
    const ghost = '0000000000000000000000';
    for (const path of [
      '/api/channels/abc',
      '/api/channels/ABCDEFGHIJKLMNOPQRSTUV',
      "/api/channels/'%20OR%201=1--",
      '/api/messages/..%2F..%2Fetc',
      `/api/users/${'z'.repeat(23)}`,
      '/api/channels/%00',
    ]) {
      assertError(await ann.api.get(path), 400, 'VALIDATION_FAILED', path);
    }
    assertError(await ann.api.get(`/api/channels/${ghost}`), 404, 'NOT_FOUND', 'ghost channel');
    assertError(await ann.api.get(`/api/messages/${ghost}`), 404, 'NOT_FOUND', 'ghost message');
    assertError(await ann.api.get(`/api/users/${ghost}`), 404, 'NOT_FOUND', 'ghost user');
    assertError(await ann.api.post(`/api/channels/${ghost}/messages`, { text: 'into the void' }), 404, 'NOT_FOUND', 'send to ghost');
    // Rejected by the router itself (over maxParamLength, bad percent-encoding): still the contract's shape.
    assertError(await ann.api.get(`/api/channels/${'a'.repeat(300)}`), 400, 'VALIDATION_FAILED', 'param of 300 chars');
    assertError(await ann.api.get(`/api/messages/${'a'.repeat(300)}/thread`), 400, 'VALIDATION_FAILED', 'param of 300 chars (thread)');
    assertError(await ann.api.get('/api/channels/%E0%A4%A'), 400, 'BAD_REQUEST', 'bad percent-encoding');
    assertError(await ann.api.get('/api/messages/%zz'), 400, 'BAD_REQUEST', 'bad percent-encoding %zz');
    await rejectSends([
      ['bad channel id in send', () => ann.api.post('/api/channels/nope/messages', { text: 'x' }), 400, 'VALIDATION_FAILED'],
      ['bad parentId', () => ann.api.post(msgs(), { text: 'x', parentId: 'nope' }), 400, 'VALIDATION_FAILED'],
      ['unknown parentId', () => ann.api.post(msgs(), { text: 'x', parentId: ghost }), 400, 'VALIDATION_FAILED'],
      ['bad emoji', () => ann.api.put(`/api/messages/${root.id}/reactions/%3Cscript%3E`), 400, 'VALIDATION_FAILED'],
      ['bad member id', () => ann.api.patch(`/api/channels/${ch.id}/members/nope`, { role: 'admin' }), 400, 'VALIDATION_FAILED'],
      ['bad user id in members', () => ann.api.post(`/api/channels/${ch.id}/members`, { userIds: ['nope'] }), 400, 'VALIDATION_FAILED'],
      ['unknown user id in members', () => ann.api.post(`/api/channels/${ch.id}/members`, { userIds: [ghost] }), 400, 'VALIDATION_FAILED'],
    ]);
    assert.deepEqual(ok(await ann.api.get(`/api/messages/${root.id}`)).reactions, []);
  });

  it('hostile bodies on every route that takes one → 4xx with a code, never a 500, nothing written', async () => {
    const bob = await srv.user('bob');
    const routes: Array<[string, string, boolean]> = [
      ['POST', '/api/auth/signup', false],
      ['POST', '/api/auth/signin', false],
      ['POST', '/api/auth/refresh', false],
      ['POST', '/api/auth/signout', false],
      ['POST', '/api/admin/users/bulk', true],
      ['PATCH', `/api/admin/users/${bob.id}`, true],
      ['PATCH', '/api/users/me', true],
      ['POST', '/api/channels', true],
      ['PATCH', `/api/channels/${ch.id}`, true],
      ['POST', `/api/channels/${ch.id}/members`, true],
      ['PATCH', `/api/channels/${ch.id}/members/${bob.id}`, true],
      ['POST', '/api/dms', true],
      ['POST', msgs(), true],
      ['PATCH', `/api/messages/${root.id}`, true],
      ['POST', `/api/channels/${ch.id}/read`, true],
      ['POST', '/api/notifications/read', true],
    ];
    const bodies = [
      '[]',
      'null',
      '"text"',
      '123',
      'true',
      '{"text":{"$gt":""},"name":{"$ne":null},"userIds":{"$in":[]}}',
      '{"seq":1e400,"text":1e400}',
      '['.repeat(50_000) + ']'.repeat(50_000), // deep nesting: no stack overflow
      '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000),
      '{"a":'.repeat(10_000) + '{"__proto__":{"polluted":1}}' + '}'.repeat(10_000),
    ];
    const before = await snapshot();
    for (const [method, path, authed] of routes) {
      for (const raw of bodies) {
        const r = await (authed ? ann.api : srv.api).req(method, path, undefined, { raw });
        const what = `${method} ${path} ${raw.slice(0, 30)}`;
        assert.ok(r.status >= 400 && r.status < 500, `${what} → ${r.status} ${JSON.stringify(r.body)?.slice(0, 300)}`);
        assert.equal(typeof r.body?.error?.code, 'string', what);
        assert.equal(typeof r.body.error.message, 'string', what);
      }
    }
    assert.deepEqual(await snapshot(), before);
    assert.equal(({} as any).polluted, undefined);
    assert.equal(ok(await ann.api.get('/api/users/me')).role, 'member');
    assert.equal(ok(await ann.api.get(`/api/users/${bob.id}`)).role, 'member');
  });

  it('limits out of range, and before with after → 400 VALIDATION_FAILED', async () => {
    const h = msgs();
    for (const q of [
      'limit=0',
      'limit=-1',
      'limit=201',
      'limit=1.5',
      'limit=1e9',
      'before=-1',
      'after=-5',
      `after=${2 ** 53}`,
      'before=x',
      'before=1&after=1',
      'limit=',
      'limit=1&limit=2',
    ]) {
      assertError(await ann.api.get(`${h}?${q}`), 400, 'VALIDATION_FAILED', q);
    }
    for (const q of ['limit=0', 'limit=101']) assertError(await ann.api.get(`/api/users?${q}`), 400, 'VALIDATION_FAILED', `users ${q}`);
    for (const q of ['limit=0', 'limit=101', 'cursor=nope'])
      assertError(await ann.api.get(`/api/notifications?${q}`), 400, 'VALIDATION_FAILED', `notifications ${q}`);
    assertError(await ann.api.get(`/api/messages/${root.id}/thread?limit=201`), 400, 'VALIDATION_FAILED', 'thread limit=201');
    assertError(await ann.api.get('/api/channels?limit=201'), 400, 'VALIDATION_FAILED', 'channels limit=201');
    assertError(await ann.api.get('/api/channels?browse=private'), 400, 'VALIDATION_FAILED', 'browse=private');
    // In range: accepted.
    assert.equal(ok(await ann.api.get(`${h}?limit=1`)).messages.length, 1);
    assert.equal(ok(await ann.api.get(`${h}?limit=200&after=0`)).messages[0].seq, 1);
  });
});
