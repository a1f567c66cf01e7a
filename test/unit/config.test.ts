// The config schema: defaults, env and flag precedence, every problem listed at once, docs current.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError, configMarkdown, loadConfig } from '../../src/config.js';

describe('config', () => {
  it('has working defaults with no environment', () => {
    const c = loadConfig({}, {});
    assert.equal(c.port, 3000);
    assert.equal(c.dataDir, './data');
    assert.equal(c.databaseUrl, undefined);
    assert.deepEqual(c.allowedOrigins, []);
  });

  it('takes flags over environment over defaults', () => {
    const c = loadConfig(
      { '--port': '4000' },
      { NCHAT_PORT: '5000', NCHAT_HOST: '127.0.0.1', NCHAT_ALLOWED_ORIGINS: 'https://a.example, https://b.example' },
    );
    assert.equal(c.port, 4000);
    assert.equal(c.host, '127.0.0.1');
    assert.deepEqual(c.allowedOrigins, ['https://a.example', 'https://b.example']);
  });

  it('lists every problem at once', () => {
    try {
      loadConfig(
        { '--bogus': '1' },
        {
          NCHAT_PORT: 'eighty',
          NCHAT_DATABASE_URL: 'mysql://x',
          NCHAT_LOG_LEVEL: 'loud',
          NCHAT_WS_MAX_BUFFERED: '5',
          NCHAT_JWT_SECRET: 'short',
        },
      );
      assert.fail('should have thrown');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.problems.length, 6, e.message);
      for (const needle of ['--bogus', 'NCHAT_PORT', 'NCHAT_DATABASE_URL', 'NCHAT_LOG_LEVEL', 'NCHAT_WS_MAX_BUFFERED', 'NCHAT_JWT_SECRET'])
        assert.match(e.message, new RegExp(needle));
    }
  });

  it('docs/CONFIG.md is generated from the current schema (npm run docs:config)', () => {
    const onDisk = readFileSync(new URL('../../docs/CONFIG.md', import.meta.url), 'utf8');
    assert.equal(onDisk, configMarkdown());
  });
});
