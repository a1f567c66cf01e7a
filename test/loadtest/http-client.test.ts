// The generator's HttpClient against a real ɳChat server: `parse: false` still reads a 2xx reply
// to its end (and times it) without parsing it, and still parses an error reply for its code.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpClient } from '../../src/loadtest/clients/http.js';
import { startTestServer } from '../helpers/server.js';

describe('loadtest HttpClient', () => {
  let srv: Awaited<ReturnType<typeof startTestServer>>;
  let http: HttpClient;
  before(async () => {
    srv = await startTestServer('sqlite');
    http = new HttpClient(srv.running.url, 2);
  });
  after(async () => {
    await http?.close();
    await srv?.stop();
  });

  it('parses a 2xx body by default', async () => {
    const r = await http.request<{ id: string }>('GET', '/api/users/me', { token: srv.owner.token });
    assert.equal(r.ok, true);
    assert.equal(r.body.id, srv.owner.id);
  });

  it('parse: false reads a 2xx reply to its end, times it, and leaves the body unparsed', async () => {
    const r = await http.request('GET', '/api/users/me', { token: srv.owner.token, parse: false });
    assert.equal(r.ok, true);
    assert.equal(r.status, 200);
    assert.equal(r.body, undefined);
    assert.ok(r.ms > 0);
    // The connection is reusable: the body was consumed.
    assert.equal((await http.request('GET', '/api/users/me', { token: srv.owner.token, parse: false })).status, 200);
  });

  it('parse: false still parses an error reply for its code', async () => {
    const r = await http.request('GET', '/api/users/me', { token: 'not-a-token', parse: false });
    assert.equal(r.ok, false);
    assert.equal(r.status, 401);
    assert.equal(r.error, 'TOKEN_INVALID');
  });
});
