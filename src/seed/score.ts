// The relevance scorer: every query of the relevance set through GET /api/search as the seeded
// searcher, over HTTP against a running server. Definitions (stated in the output too):
// - precision@10: of the first page of 10 results, the share that are right answers (a page with
//   fewer results is judged on what it holds; an empty page for a query with answers scores 0);
// - recall: right answers among the first 50 results (following the cursor) ÷ all right answers;
// - Relevance Score = (mean precision@10 + mean recall) / 2 over all queries.
// A query answered with an error scores 0 on both and is listed with its status.
import type { RelevanceQuery, RelevanceSet } from './relevance.js';

export const RECALL_DEPTH = 50;
const PAGE = 10;

export interface QueryScore {
  id: string;
  kind: string;
  q: string;
  answers: number;
  precisionAt10: number;
  recall: number;
  /** Distractors that showed up in the first page (the filter or check they were for failed). */
  distractorsOnPage: number;
  error?: string;
}

export interface RelevanceScore {
  queries: QueryScore[];
  precisionAt10: number;
  recall: number;
  score: number;
}

/** Message ids of one search reply, and its next-page cursor (shape: src/protocol/search.ts). */
export function pageOf(body: unknown): { ids: string[]; cursor?: string } {
  const b = body as { results?: { message?: { id?: string }; id?: string }[]; nextCursor?: string | null; cursor?: string | null };
  const ids = (b.results ?? []).map((r) => r.message?.id ?? r.id).filter((x): x is string => typeof x === 'string');
  return { ids, cursor: b.nextCursor ?? b.cursor ?? undefined };
}

async function signIn(url: string, login: string, password: string): Promise<string> {
  const res = await fetch(`${url}/api/auth/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, password }),
  });
  const body = (await res.json().catch(() => ({}))) as { accessToken?: string };
  if (res.status !== 200 || !body.accessToken) throw new Error(`sign-in as ${login} failed: HTTP ${res.status}`);
  return body.accessToken;
}

async function runQuery(url: string, token: string, q: RelevanceQuery): Promise<QueryScore> {
  const want = new Set(q.answers);
  const bad = new Set(q.distractors);
  const got: string[] = [];
  let firstPage: string[] = [];
  let cursor: string | undefined;
  const base: QueryScore = { id: q.id, kind: q.kind, q: q.q, answers: q.answers.length, precisionAt10: 0, recall: 0, distractorsOnPage: 0 };
  for (let page = 0; got.length < RECALL_DEPTH; page++) {
    const params = new URLSearchParams({ q: q.q, limit: String(PAGE) });
    if (cursor) params.set('cursor', cursor);
    const res = await fetch(`${url}/api/search?${params}`, { headers: { authorization: `Bearer ${token}` } });
    const body = await res.json().catch(() => undefined);
    if (res.status !== 200) return { ...base, error: `HTTP ${res.status} ${JSON.stringify((body as { error?: unknown })?.error ?? '')}` };
    const p = pageOf(body);
    if (page === 0) firstPage = p.ids.slice(0, PAGE);
    got.push(...p.ids);
    if (!p.cursor || p.ids.length === 0) break;
    cursor = p.cursor;
  }
  const right = firstPage.filter((id) => want.has(id)).length;
  const found = new Set(got.slice(0, RECALL_DEPTH).filter((id) => want.has(id))).size;
  return {
    ...base,
    precisionAt10: firstPage.length ? right / firstPage.length : want.size ? 0 : 1,
    recall: want.size ? found / want.size : 1,
    distractorsOnPage: firstPage.filter((id) => bad.has(id)).length,
  };
}

export async function scoreRelevance(url: string, set: RelevanceSet, password: string): Promise<RelevanceScore> {
  const base = url.replace(/\/+$/, '');
  const token = await signIn(base, set.username, password);
  const queries: QueryScore[] = [];
  for (const q of set.queries) queries.push(await runQuery(base, token, q));
  const mean = (f: (s: QueryScore) => number) => (queries.length ? queries.reduce((s, x) => s + f(x), 0) / queries.length : 0);
  const precisionAt10 = mean((s) => s.precisionAt10);
  const recall = mean((s) => s.recall);
  return { queries, precisionAt10, recall, score: (precisionAt10 + recall) / 2 };
}

export function formatScore(s: RelevanceScore): string {
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  const rows = s.queries.map(
    (q) =>
      `  ${q.id.padEnd(13)} P@10 ${pct(q.precisionAt10).padStart(4)}  recall ${pct(q.recall).padStart(4)}  (${q.answers} answers${q.distractorsOnPage ? `, ${q.distractorsOnPage} distractor(s) on page 1` : ''}${q.error ? `, ${q.error}` : ''})  ${q.q}`,
  );
  return [
    'Relevance (precision@10: right answers on the first page of 10; recall: right answers in the first 50 results):',
    ...rows,
    `mean precision@10 ${s.precisionAt10.toFixed(3)}, mean recall ${s.recall.toFixed(3)}`,
    `Relevance Score ${s.score.toFixed(3)} (mean of the two)`,
  ].join('\n');
}
