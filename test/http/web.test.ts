// Serving the web client (src/server/http/web.ts) and the admin reports listing
// (src/server/http/reports.ts) on a real server: CSP and cache headers, the SPA fallback that
// never swallows /api, /ws or /metrics, hostile asset paths (4xx, never a 500), the plain page
// when web/dist is missing, and reports for owners/admins only with names that cannot leave the
// folder.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { CSP, registerWebRoutes } from '../../src/server/http/web.js';
// @ts-expect-error plain ESM script without types
import { ensureWeb } from '../../scripts/ensure-web.mjs';

describe('web client serving', () => {
  let srv: TestServer & { stop(): Promise<void> };
  let reports: string;
  before(async () => {
    assert.equal(ensureWeb({ quiet: true }), 0, 'web build failed');
    reports = await mkdtemp(join(tmpdir(), 'nchat-reports-'));
    srv = await startTestServer('sqlite', { NCHAT_REPORTS_DIR: reports });
  });
  after(async () => {
    await srv?.stop();
    await rm(reports, { recursive: true, force: true });
  });

  it('serves index.html at / and at client routes with a strict CSP and no-cache', async () => {
    for (const path of ['/', '/c/abc', '/some/deep/route?x=1']) {
      const r = await fetch(srv.running.url + path);
      assert.equal(r.status, 200, path);
      assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(r.headers.get('cache-control'), 'no-cache');
      assert.equal(r.headers.get('content-security-policy'), CSP);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      const html = await r.text();
      assert.match(html, /<div id="root"><\/div>/);
      assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    }
    for (const d of [
      "script-src 'self'",
      "object-src 'none'",
      "frame-ancestors 'none'",
      "connect-src 'self'",
      "img-src 'self' blob: data:",
    ])
      assert.ok(CSP.split('; ').includes(d), d);
    assert.doesNotMatch(CSP, /unsafe-inline|unsafe-eval/);
    // No network scheme as a source (ws:, wss:, http:, https: would each allow any host): 'self'
    // already covers this origin's WebSocket (CSP Level 3).
    assert.doesNotMatch(CSP, /\s(?:wss?|https?):(?=\s|;|$)/);
  });

  it('hashed assets are cached for a year; unknown or hostile asset paths are a 404, never a 500', async () => {
    const html = await (await fetch(srv.running.url + '/')).text();
    const src = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(src);
    const r = await fetch(srv.running.url + src);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /javascript/);
    assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    for (const bad of ['/assets/nope.js', '/assets/..%2f..%2fpackage.json', '/assets/a%00b.js', '/assets/sub/dir.js']) {
      const b = await fetch(srv.running.url + bad);
      assert.ok(b.status === 404 || b.status === 400, `${bad}: ${b.status}`);
      assert.ok(((await b.json()) as any).error.code, bad);
    }
  });

  it('never answers the app for /api, /ws or /metrics paths', async () => {
    for (const path of ['/api/nope', '/api', '/ws', '/metrics', '/api/users/me/extra/deep']) {
      const r = await fetch(srv.running.url + path);
      assert.equal(r.status, 404, path);
      assert.equal(((await r.json()) as any).error.code, 'NOT_FOUND', path);
    }
    const post = await fetch(srv.running.url + '/c/abc', { method: 'POST' });
    assert.equal(post.status, 404);
  });

  it('reports: owners and admins only; lists runs newest first; names cannot leave the folder', async () => {
    const member = await srv.user('member');
    assert.equal((await member.api.get('/api/admin/reports')).status, 403);
    assert.equal((await srv.api.get('/api/admin/reports')).status, 401);
    assert.deepEqual((await srv.owner.api.get('/api/admin/reports')).body, { reports: [] });
    const run = join(reports, '2026-11-30T10-00-00Z-quick');
    await mkdir(join(run, 'charts'), { recursive: true });
    await writeFile(join(run, 'summary.md'), '# Summary\n');
    await writeFile(join(run, 'charts', 'latency.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    await writeFile(join(run, 'server.log'), 'not listed');
    const list = await srv.owner.api.get('/api/admin/reports');
    assert.equal(list.status, 200);
    assert.equal(list.body.reports[0].run, '2026-11-30T10-00-00Z-quick');
    assert.deepEqual(
      list.body.reports[0].files.map((f: any) => f.name),
      ['summary.md', 'charts/latency.svg'],
    );
    const md = await srv.owner.api.get(list.body.reports[0].files[0].url);
    assert.equal(md.status, 200);
    assert.equal(md.body, '# Summary\n');
    const svg = await fetch(srv.running.url + list.body.reports[0].files[1].url, {
      headers: { authorization: `Bearer ${srv.owner.token}` },
    });
    assert.equal(svg.status, 200);
    assert.match(svg.headers.get('content-security-policy') ?? '', /sandbox/);
    for (const bad of [
      '/api/admin/reports/..%2f..%2f/etc',
      '/api/admin/reports/x/..%2fpasswd',
      '/api/admin/reports/.hidden/a.md',
      '/api/admin/reports/2026-11-30T10-00-00Z-quick/server.log',
    ]) {
      const r = await srv.owner.api.get(bad);
      assert.ok(r.status === 400 || r.status === 404, `${bad}: ${r.status}`);
      assert.ok(r.body.error.code, bad);
    }
    assert.equal((await member.api.get(list.body.reports[0].files[0].url)).status, 403);
  });
});

describe('web client not built', () => {
  it('answers / with a plain page saying how to build it (not a 404)', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'nchat-nodist-'));
    const app = Fastify();
    await registerWebRoutes(app, { distDir: empty });
    try {
      const r = await app.inject({ method: 'GET', url: '/' });
      assert.equal(r.statusCode, 200);
      assert.match(r.headers['content-type'] as string, /^text\/plain/);
      assert.match(r.body, /npm run build:web/);
      assert.equal(r.headers['content-security-policy'], CSP);
      assert.equal((await app.inject({ method: 'GET', url: '/c/x' })).statusCode, 200);
      assert.equal((await app.inject({ method: 'GET', url: '/assets/x.js' })).statusCode, 404);
    } finally {
      await app.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
