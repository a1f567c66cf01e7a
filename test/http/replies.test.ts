// Reply schemas: every route declares one for its success status (so the OpenAPI document shows
// it and fastify serializes with a compiled serializer), and real replies match the schema the
// document publishes — a field that is null but not declared nullable would come out as "" or 0,
// and fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, it } from 'node:test';
import { forEachBackend, unique, type Reply } from '../helpers/server.js';
import { makeAjv } from '../../src/server/lib/schema-check.js';
import { ok } from './util.js';

/** "METHOD /path/{param}" → the status docs/API.md promises after "→" (only rows that name one). */
function documentedStatuses(): Map<string, number> {
  const md = readFileSync(new URL('../../docs/API.md', import.meta.url), 'utf8');
  const out = new Map<string, number>();
  for (const line of md.split('\n')) {
    const m = /^\| ((?:GET|POST|PUT|PATCH|DELETE)) \| ([^|]+) \| (.*)\|$/.exec(line);
    const status = m && /→ (20\d)\b/.exec(m[3]);
    if (!m || !status || m[2].includes('(not yet)') || m[2].includes(',')) continue;
    out.set(
      `${m[1]} ${m[2]
        .trim()
        .split('?')[0]
        .replace(/:(\w+)/g, '{$1}')}`,
      Number(status[1]),
    );
  }
  return out;
}

/** Every object schema inside `s` is exact (additionalProperties:false), so a client knows every field. */
function exactObjects(s: any, where: string): void {
  if (!s || typeof s !== 'object') return;
  if (s.type === 'object' && s.properties)
    assert.equal(s.additionalProperties, false, `${where}: object with properties ${Object.keys(s.properties)} is exact`);
  for (const [k, v] of Object.entries(s)) if (typeof v === 'object') exactObjects(v, `${where}.${k}`);
}

await forEachBackend('replies', (ctx) => {
  let doc: any;
  before(async () => {
    doc = ok(await ctx.server().api.get('/api/openapi.json'));
  });

  it('every route in the OpenAPI document has a reply schema for its success status', () => {
    const documented = documentedStatuses();
    assert.ok(documented.size >= 8, 'docs/API.md names success statuses');
    let routes = 0;
    for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        routes++;
        const route = `${method.toUpperCase()} ${path}`;
        const success = Object.keys(op.responses).filter((s) => /^2\d\d$/.test(s));
        assert.ok(success.length > 0, `${route}: a 2xx reply is declared (got ${Object.keys(op.responses)})`);
        const promised = documented.get(route);
        if (promised !== undefined)
          assert.ok(success.includes(String(promised)), `${route}: docs/API.md promises ${promised}, declared ${success}`);
        for (const status of success) {
          const schema = op.responses[status].content?.['application/json']?.schema;
          if (status === '204') {
            assert.equal(schema, undefined, `${route}: 204 has no body`);
            continue;
          }
          // A declared empty reply (NoContent) other than 204, e.g. tus creation's 201 + Location.
          if (!op.responses[status].content && op.responses[status].description === 'no content') continue;
          const bytes = op.responses[status].content?.['application/octet-stream']?.schema;
          if (bytes) {
            assert.equal(bytes.format, 'binary', `${route} ${status}: a binary reply`);
            continue;
          }
          assert.ok(schema && typeof schema === 'object', `${route} ${status}: a JSON schema`);
          if (path !== '/api/openapi.json') exactObjects(schema, `${route} ${status}`);
        }
        assert.ok(op.responses.default?.content?.['application/json']?.schema, `${route}: the error body is declared`);
      }
    }
    assert.ok(routes >= 30, `${routes} routes`);
  });

  it('real replies match the published reply schemas (nulls, optional fields, formats)', async () => {
    const srv = ctx.server();
    const ajv = makeAjv(false);
    const checked = new Set<string>();
    const check = <T = any>(method: string, template: string, r: Reply<T>, status = 200): T => {
      assert.equal(r.status, status, `${method} ${template} → ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
      const schema = doc.paths[template]?.[method.toLowerCase()]?.responses?.[String(status)]?.content?.['application/json']?.schema;
      assert.ok(schema, `${method} ${template} ${status}: schema published`);
      const validate = ajv.compile(schema);
      assert.ok(
        validate(r.body),
        `${method} ${template} ${status}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(r.body).slice(0, 400)}`,
      );
      checked.add(`${method} ${template}`);
      return r.body;
    };

    check('GET', '/api/health', await srv.api.get('/api/health'));
    const name = unique('rp');
    const pw = 'correct horse battery';
    const signup = check(
      'POST',
      '/api/auth/signup',
      await srv.api.post('/api/auth/signup', { email: `${name}@example.com`, username: name, password: pw }),
      201,
    );
    assert.equal(signup.user.status, null);
    assert.equal(signup.user.deactivatedAt, null);
    const signin = check('POST', '/api/auth/signin', await srv.api.post('/api/auth/signin', { login: name, password: pw }));
    check('POST', '/api/auth/refresh', await srv.api.post('/api/auth/refresh', { refreshToken: signin.refreshToken }));
    const b = await srv.user('rpb');
    const owner = srv.owner;

    check('GET', '/api/users/me', await b.api.get('/api/users/me'));
    assert.equal(check('PATCH', '/api/users/me', await b.api.patch('/api/users/me', { status: 'busy' })).status, 'busy');
    assert.equal(check('PATCH', '/api/users/me', await b.api.patch('/api/users/me', { status: null })).status, null);
    const profile = check('GET', '/api/users/{id}', await b.api.get(`/api/users/${signup.user.id}`));
    assert.equal('email' in profile, false, 'email stays private');
    assert.ok(check('GET', '/api/users', await b.api.get(`/api/users?q=${name}`)).users.length >= 1);

    const ch = check('POST', '/api/channels', await owner.api.post('/api/channels', { name: unique('rc'), type: 'public' }), 201);
    assert.equal(ch.archivedAt, null);
    check('GET', '/api/channels/{id}', await owner.api.get(`/api/channels/${ch.id}`));
    check('PATCH', '/api/channels/{id}', await owner.api.patch(`/api/channels/${ch.id}`, { topic: 'replies' }));
    check('POST', '/api/channels/{id}/join', await b.api.post(`/api/channels/${ch.id}/join`));
    check('POST', '/api/channels/{id}/members', await owner.api.post(`/api/channels/${ch.id}/members`, { userIds: [signup.user.id] }));
    check('GET', '/api/channels/{id}/members', await owner.api.get(`/api/channels/${ch.id}/members`));
    const dm = check('POST', '/api/dms', await b.api.post('/api/dms', { userIds: [owner.id] }));
    const mine = check('GET', '/api/channels', await b.api.get('/api/channels')).channels;
    const dmItem = mine.find((c: any) => c.id === dm.id);
    assert.deepEqual(dmItem.dmUserIds, [b.id, owner.id].sort(), 'the member view of a DM');
    assert.equal(mine.find((c: any) => c.id === ch.id).dmUserIds, null, 'null for a channel, not dropped');
    const browse = check('GET', '/api/channels', await b.api.get('/api/channels?browse=public')).channels;
    assert.ok(
      browse.every((c: any) => !('unreadCount' in c)),
      'browse lists plain channels',
    );

    const m = check(
      'POST',
      '/api/channels/{id}/messages',
      await b.api.post(`/api/channels/${ch.id}/messages`, { text: `hi @${owner.username}`, clientMsgId: 'rp-1' }),
      201,
    );
    assert.equal(m.editedAt, null);
    assert.equal(m.clientMsgId, 'rp-1');
    assert.equal(
      check(
        'POST',
        '/api/channels/{id}/messages',
        await b.api.post(`/api/channels/${ch.id}/messages`, { text: `hi @${owner.username}`, clientMsgId: 'rp-1' }),
      ).id,
      m.id,
    );
    const plain = check('POST', '/api/channels/{id}/messages', await b.api.post(`/api/channels/${ch.id}/messages`, { text: 'no id' }), 201);
    assert.equal(plain.clientMsgId, null);
    const reply = check(
      'POST',
      '/api/channels/{id}/messages',
      await owner.api.post(`/api/channels/${ch.id}/messages`, { text: 'a reply', parentId: m.id }),
      201,
    );
    assert.equal(reply.parentId, m.id);
    check('GET', '/api/channels/{id}/messages', await b.api.get(`/api/channels/${ch.id}/messages`));
    assert.equal(check('GET', '/api/messages/{id}', await b.api.get(`/api/messages/${m.id}`)).replyCount, 1);
    assert.ok(check('PATCH', '/api/messages/{id}', await b.api.patch(`/api/messages/${m.id}`, { text: 'edited' })).editedAt);
    assert.equal(
      check('PUT', '/api/messages/{id}/reactions/{emoji}', await owner.api.put(`/api/messages/${m.id}/reactions/thumbsup`)).reactions[0]
        .count,
      1,
    );
    check('DELETE', '/api/messages/{id}/reactions/{emoji}', await owner.api.del(`/api/messages/${m.id}/reactions/thumbsup`));
    assert.equal(check('GET', '/api/messages/{id}/thread', await b.api.get(`/api/messages/${m.id}/thread`)).replies.length, 1);
    assert.ok(check('DELETE', '/api/messages/{id}', await b.api.del(`/api/messages/${plain.id}`)).deletedAt);
    check('POST', '/api/channels/{id}/read', await owner.api.post(`/api/channels/${ch.id}/read`, { seq: 1 }));

    const notes = check('GET', '/api/notifications', await owner.api.get('/api/notifications')).notifications;
    assert.ok(notes.length >= 1, 'the mention and the reply notified');
    check('POST', '/api/notifications/read', await owner.api.post('/api/notifications/read', { all: true }));

    check('POST', '/api/admin/invites', await owner.api.post('/api/admin/invites', {}), 201);
    const bulkName = unique('rk');
    check(
      'POST',
      '/api/admin/users/bulk',
      await owner.api.post('/api/admin/users/bulk', { users: [{ email: `${bulkName}@example.com`, username: bulkName, password: pw }] }),
      201,
    );
    check('PATCH', '/api/admin/users/{id}', await owner.api.patch(`/api/admin/users/${signup.user.id}`, { role: 'moderator' }));
    assert.ok(check('DELETE', '/api/channels/{id}', await owner.api.del(`/api/channels/${ch.id}`)).archivedAt);
    assert.ok(checked.size >= 28, `${checked.size} routes checked`);
  });
});
