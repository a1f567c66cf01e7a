// The search query language, Slack/Mattermost style: words, "phrases", -excluded, prefix*, and
// the operators from:@user in:#channel has:file|image|link before:/after:/on:YYYY-MM-DD is:thread.
//
// Contract: parse() accepts ANY string and never throws. Nothing of the input is ever syntax for
// FTS5 or tsquery: the output holds folded tokens only (letters and digits), and the stores quote
// each one. Unbalanced quotes close at the end of the input; parentheses, boolean words (AND, OR,
// NOT, NEAR), SQL and FTS syntax are plain text (their letters become words, the rest separates);
// an operator without a usable value, an unknown is:/has: value or a bad date is dropped and
// listed in `ignored`. Lengths and counts are capped here too, so a caller that skipped the HTTP
// schema still gets bounded work.
import type { HasValue, ParsedQuery, TextTerm } from './ast.js';
import { tokens } from './text.js';

/** Longest `q` the parser reads (characters); the HTTP schema refuses longer ones with a 400. */
export const MAX_QUERY_CHARS = 512;
/** Text terms kept (include + exclude); more are dropped and listed in `ignored`. */
export const MAX_TERMS = 16;
/** Tokens in one phrase. */
export const MAX_PHRASE_TOKENS = 12;
/** A prefix needs this many characters (shorter ones would expand to most of the vocabulary). */
export const MIN_PREFIX_CHARS = 2;
/** Characters of a term's source text (what PostgreSQL's parser reads). */
const MAX_SOURCE_CHARS = 200;
/** from: / in: values kept. */
export const MAX_NAMES = 8;

const HAS_ALIASES: Record<string, HasValue> = {
  file: 'file',
  files: 'file',
  attachment: 'file',
  attachments: 'file',
  image: 'image',
  images: 'image',
  link: 'link',
  links: 'link',
  url: 'link',
};

interface Chunk {
  text: string;
  quoted: boolean;
  negated: boolean;
}

/** Splits on whitespace, keeping "quoted runs" (quotes may open mid-word: -"a b", from:"x"). */
function chunks(q: string): Chunk[] {
  const out: Chunk[] = [];
  let i = 0;
  while (i < q.length) {
    while (i < q.length && /\s/u.test(q[i]!)) i++;
    if (i >= q.length) break;
    let negated = false;
    if (q[i] === '-' && i + 1 < q.length && !/\s/u.test(q[i + 1]!)) {
      negated = true;
      i++;
    }
    if (q[i] === '"') {
      const close = q.indexOf('"', i + 1);
      const end = close < 0 ? q.length : close;
      out.push({ text: q.slice(i + 1, end), quoted: true, negated });
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < q.length && !/\s/u.test(q[j]!)) j++;
    out.push({ text: q.slice(i, j), quoted: false, negated });
    i = j;
  }
  return out;
}

function dayStart(v: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const d = new Date(t);
  // Refuse 2026-02-31 and the like rather than rolling over.
  if (d.getUTCFullYear() !== Number(m[1]) || d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3])) return undefined;
  if (d.getUTCFullYear() < 1970 || d.getUTCFullYear() > 9998) return undefined;
  return t;
}

const DAY_MS = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** A text chunk as a term, or undefined when it holds no token (punctuation, emoji, lone `*`). */
function term(text: string, quoted: boolean): TextTerm | undefined {
  const isPrefix = !quoted && text.endsWith('*');
  const toks = tokens(isPrefix ? text.replace(/\*+$/u, '') : text).slice(0, MAX_PHRASE_TOKENS);
  if (toks.length === 0) return undefined;
  if (isPrefix) {
    if (toks[toks.length - 1]!.length < MIN_PREFIX_CHARS) {
      return toks.length > 1 ? { kind: 'phrase', tokens: toks.slice(0, -1), source: toks.slice(0, -1).join(' ') } : undefined;
    }
    return { kind: 'prefix', tokens: toks, source: toks.join(' ') };
  }
  return { kind: toks.length === 1 ? 'word' : 'phrase', tokens: toks, source: text.slice(0, MAX_SOURCE_CHARS) };
}

/** A from:/in: value: the leading @ or # dropped, lower-cased; undefined when not a plausible name. */
function nameOf(v: string, sigil: string): string | undefined {
  const name = (v.startsWith(sigil) ? v.slice(1) : v).toLowerCase();
  return /^[\p{L}\p{N}._-]{1,80}$/u.test(name) ? name : undefined;
}

export function parseQuery(input: string): ParsedQuery {
  const q = input.slice(0, MAX_QUERY_CHARS);
  const out: ParsedQuery = { include: [], exclude: [], from: [], in: [], has: [], isThread: false, ignored: [] };
  let before: number | undefined;
  let after: number | undefined;
  for (const c of chunks(q)) {
    const op = c.quoted ? undefined : /^([a-zA-Z]+):(.*)$/su.exec(c.text);
    const key = op ? op[1]!.toLowerCase() : undefined;
    if (op && key && ['from', 'in', 'has', 'before', 'after', 'on', 'during', 'is'].includes(key)) {
      const value = op[2]!;
      const drop = () => out.ignored.push(c.text.slice(0, 64));
      if (c.negated || value === '') {
        drop();
        continue;
      }
      if (key === 'from' || key === 'in') {
        const name = nameOf(value, key === 'from' ? '@' : '#');
        const list = key === 'from' ? out.from : out.in;
        if (name === undefined || list.length >= MAX_NAMES) drop();
        else if (!list.includes(name)) list.push(name);
      } else if (key === 'has') {
        const h = HAS_ALIASES[value.toLowerCase()];
        if (!h) drop();
        else if (!out.has.includes(h)) out.has.push(h);
      } else if (key === 'is') {
        if (value.toLowerCase() === 'thread') out.isThread = true;
        else drop();
      } else {
        const day = dayStart(value);
        if (day === undefined) drop();
        else if (key === 'before') before = Math.min(before ?? day, day);
        else if (key === 'after') after = Math.max(after ?? day + DAY_MS, day + DAY_MS);
        else {
          after = Math.max(after ?? day, day);
          before = Math.min(before ?? day + DAY_MS, day + DAY_MS);
        }
      }
      continue;
    }
    const t = term(c.text, c.quoted);
    if (!t) {
      if (c.text.trim() !== '') out.ignored.push(c.text.slice(0, 64));
      continue;
    }
    if (out.include.length + out.exclude.length >= MAX_TERMS) {
      out.ignored.push(c.text.slice(0, 64));
      continue;
    }
    (c.negated ? out.exclude : out.include).push(t);
  }
  if (before !== undefined) out.before = iso(before);
  if (after !== undefined) out.after = iso(after);
  out.ignored = out.ignored.slice(0, MAX_TERMS);
  return out;
}
