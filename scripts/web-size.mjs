#!/usr/bin/env node
// Measures the web client's initial JavaScript: every script and modulepreload that
// web/dist/index.html loads (lazy chunks such as the search panel are not counted), gzipped at
// level 9 as a server or CDN would send it. Prints the figure; exits 1 above the budget
// (300 KB = 300 × 1024 bytes, issue 13). Run `npm run build:web` first (ensure-web does it).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ensureWeb } from './ensure-web.mjs';

export const BUDGET_BYTES = 300 * 1024;

export function initialJs(dist) {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const srcs = [
    ...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g),
    ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g),
  ].map((m) => m[1]);
  const files = [...new Set(srcs)].map((src) => {
    const bytes = readFileSync(join(dist, src.replace(/^\//, '')));
    return { src, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
  return { files, raw: files.reduce((a, f) => a + f.raw, 0), gzip: files.reduce((a, f) => a + f.gzip, 0) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (ensureWeb({ quiet: true }) !== 0) process.exit(1);
  const dist = new URL('../web/dist', import.meta.url).pathname;
  const r = initialJs(dist);
  for (const f of r.files) console.log(`${f.src}  ${(f.raw / 1024).toFixed(1)} KB raw, ${(f.gzip / 1024).toFixed(1)} KB gzipped`);
  const ok = r.gzip <= BUDGET_BYTES;
  console.log(
    `web client initial JS: ${(r.gzip / 1024).toFixed(1)} KB gzipped (budget ${BUDGET_BYTES / 1024} KB) — ${ok ? 'OK' : 'OVER BUDGET'}`,
  );
  process.exit(ok ? 0 : 1);
}
