// Renders the route matrix of docs/SECURITY.md from test/security/matrix.ts (not a test file
// itself). doc.test.ts fails when the document and the table differ; to regenerate:
//   node --import tsx test/security/doc.ts --write
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BAD_TOKENS } from './tokens.js';
import { MATRIX, describeExpect } from './matrix.js';

export const DOC = fileURLToPath(new URL('../../docs/SECURITY.md', import.meta.url));
export const BEGIN = '<!-- matrix:begin (generated from test/security/matrix.ts: node --import tsx test/security/doc.ts --write) -->';
export const END = '<!-- matrix:end -->';

const WHO = { bob: 'outsider', guest: 'guest', carol: 'channel member' } as const;

export function renderMatrix(): string {
  const out = ['| route | credentials | who may | refused (→ answer) | free text (injection rows) |', '|---|---|---|---|---|'];
  for (const r of MATRIX) {
    const denied = Object.entries(r.deny ?? {})
      .map(([who, e]) => `${WHO[who as keyof typeof WHO]} → ${describeExpect(e)}`)
      .join('; ');
    const inj = [...(r.strings ?? []).map((f) => `body.${f}`), ...(r.query ?? []).map((q) => `?${q}`)].join(', ');
    const path = r.path.replace(/\|/g, '\\|');
    out.push(
      `| \`${r.method} ${path}\` | ${r.auth === 'bearer' ? `${BAD_TOKENS.length} bad kinds refused` : 'public'} | ${r.may} | ${denied || '—'} | ${inj || '—'} |`,
    );
  }
  out.push('');
  out.push(
    'Outsider: a member-role account not in the private channel; guest: the guest role, added to nothing; channel member: a plain member of the channel, not its admin. Every route with a JSON body also gets the malformed rows, every route with query parameters the bad-parameter rows.',
  );
  out.push('');
  out.push(
    `Bad credentials (every \`bearer\` route and the \`/ws\` upgrade): ${BAD_TOKENS.map((t) => `${t.kind} → ${t.status} \`${t.code}\``).join('; ')}.`,
  );
  return out.join('\n');
}

/** The document with its generated section replaced. */
export function withMatrix(doc: string): string {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`docs/SECURITY.md has no ${BEGIN} … ${END} section`);
  return `${doc.slice(0, a + BEGIN.length)}\n${renderMatrix()}\n${doc.slice(b)}`;
}

if (process.argv.includes('--write')) writeFileSync(DOC, withMatrix(readFileSync(DOC, 'utf8')));
