// The relevance set: messages planted at known slots with made-up tokens ("zq…", a prefix the
// vocabulary never produces, see vocab.ts), and queries whose right answers are exactly the
// planted messages the searcher may read. Distractors are planted beside them: the same token in
// a private channel the searcher is not in, by another author, in another channel, without a
// link, outside the date range, in the wrong word order, with an excluded word — so a result that
// ignores a filter, the phrase or the permission check costs precision, and a missed accent fold,
// prefix or page costs recall.
//
// Ranking is checked once, where the right order is unambiguous: 30 identical messages of
// different ages, the 10 newest must fill the first page. Not covered: typo tolerance (neither
// FTS5 nor tsvector has it), and ranking by how well different texts match.
import type { Plan } from './plan.js';
import { T_SPAN, T_START } from './plan.js';
import { type Planted, slotId, slotMs } from './generate.js';
import { Rng } from './rng.js';
import { Vocabulary } from './vocab.js';

export interface RelevanceQuery {
  /** Stable name of the case (e.g. "phrase"). */
  id: string;
  /** What the case checks. */
  kind: string;
  /** The q parameter, exactly as sent. */
  q: string;
  /** Ids of the messages that must be found (all readable by the searcher). */
  answers: string[];
  /** Planted messages that match the words but not the query (for reading a failure). */
  distractors: string[];
}

export interface RelevanceSet {
  version: 1;
  /** The account every query runs as (member of every answer's channel). */
  username: string;
  queries: RelevanceQuery[];
}

const SYL = ['ba', 'de', 'fi', 'go', 'ku', 'la', 'me', 'ni', 'po', 'ru', 'sa', 'te', 'vi', 'lo', 'mu', 'ra', 'to', 'ne'];
const ACCENT: Record<string, string> = { a: 'á', e: 'é', i: 'ï', o: 'ô', u: 'ü' };

/** Replaces the first vowel after "zq" with an accented one (zqbadefi → zqbádefi). */
export const accented = (t: string) => t.slice(0, 2) + t.slice(2).replace(/[aeiou]/, (v) => ACCENT[v]);

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function plantRelevance(plan: Plan): { planted: Map<number, Planted>; set: RelevanceSet } {
  const n = plan.params.messages;
  const rng = new Rng(plan.params.seed, 4);
  const vocab = new Vocabulary();
  const planted = new Map<number, Planted>();
  const queries: RelevanceQuery[] = [];
  const tokens: string[] = [];

  /** A fresh token; none is a prefix of another (prefix* queries stay exact). */
  const token = (): string => {
    for (;;) {
      let t = 'zq';
      const k = rng.range(3, 4);
      for (let i = 0; i < k; i++) t += rng.pick(SYL);
      if (tokens.some((o) => o.startsWith(t) || t.startsWith(o))) continue;
      tokens.push(t);
      return t;
    }
  };
  const filler = (k: number) => vocab.words_(rng, k);
  const around = (core: string) => `${filler(rng.range(1, 5))} ${core} ${filler(rng.range(1, 5))}`;

  /** A free slot in [lo·n, hi·n). */
  const slot = (lo: number, hi: number): number => {
    const a = Math.floor(lo * n);
    const b = Math.max(a + 1, Math.floor(hi * n));
    for (let tries = 0; tries < 10_000; tries++) {
      const s = a + rng.int(b - a);
      if (!planted.has(s)) return s;
    }
    throw new Error('relevance set: no free slot (too few messages)');
  };
  const memberOf = (c: number) => rng.pick(plan.channels[c].members);
  const put = (s: number, p: Planted) => {
    planted.set(s, p);
    return slotId(plan, s);
  };
  /** A planted message in a channel the searcher reads (or `channel`), by a member (or `author`). */
  const visible = (text: string, o: { channel?: number; author?: number; lo?: number; hi?: number } = {}) => {
    const channel = o.channel ?? rng.pick(plan.visible);
    return put(slot(o.lo ?? 0.02, o.hi ?? 0.98), { channel, author: o.author ?? memberOf(channel), text });
  };
  const hiddenMsg = (text: string) => {
    const channel = rng.pick(plan.hidden);
    return put(slot(0.02, 0.98), { channel, author: memberOf(channel), text });
  };
  const add = (id: string, kind: string, q: string, answers: string[], distractors: string[]) =>
    queries.push({ id, kind, q, answers, distractors });
  const times = <T>(k: number, f: (i: number) => T) => Array.from({ length: k }, (_, i) => f(i));

  // 1. One word; two copies in a private channel the searcher is not in must stay invisible.
  {
    const t = token();
    add(
      'word',
      'one word; permission filter',
      t,
      times(6, () => visible(around(t))),
      times(2, () => hiddenMsg(around(t))),
    );
  }
  // 2. Case: written in capitals, searched in lower case.
  {
    const t = token();
    add(
      'case',
      'case-insensitive',
      t,
      times(4, (i) => visible(around(i % 2 ? t.toUpperCase() : t[0].toUpperCase() + t.slice(1)))),
      [],
    );
  }
  // 3. Two words: both must occur (AND), in any order.
  {
    const a = token();
    const b = token();
    const answers = times(5, (i) => visible(i % 2 ? around(`${a} ${filler(3)} ${b}`) : around(`${b} ${a}`)));
    add('and', 'two words, both required', `${a} ${b}`, answers, [
      ...times(2, () => visible(around(a))),
      ...times(2, () => visible(around(b))),
    ]);
  }
  // 4. Phrase: adjacent and in order only.
  {
    const a = token();
    const b = token();
    const answers = times(4, () => visible(around(`${a} ${b}`)));
    add('phrase', '"quoted phrase", adjacent and in order', `"${a} ${b}"`, answers, [
      ...times(2, () => visible(around(`${b} ${a}`))),
      visible(around(`${a} ${filler(2)} ${b}`)),
    ]);
  }
  // 5./6. Accents: plain query finds accented text, accented query finds plain text.
  {
    const t = token();
    add(
      'accent-fold',
      'plain query finds accented text (cafe → café)',
      t,
      [...times(3, () => visible(around(accented(t)))), ...times(2, () => visible(around(t)))],
      [],
    );
    const u = token();
    add(
      'accent-query',
      'accented query finds plain text (café → cafe)',
      accented(u),
      [...times(3, () => visible(around(u))), ...times(2, () => visible(around(accented(u))))],
      [],
    );
  }
  // 7. Prefix: t* finds every word starting with t, not a near miss.
  {
    const t = token();
    const answers = ['ra', 'mon', 'vel', ''].map((suffix) => visible(around(t + suffix)));
    add('prefix', 'prefix* query', `${t}*`, answers, [visible(around(`${t.slice(0, -1)}x`))]);
  }
  // 8. from:@user — the same token by others is a distractor. The author is in #general (index 0).
  {
    const t = token();
    const x = 2 + rng.int(plan.users.length - 2);
    const others = plan.channels[0].members.filter((m) => m !== x);
    add(
      'from',
      'from:@user',
      `${t} from:@${plan.users[x].username}`,
      times(4, () => visible(around(t), { channel: 0, author: x })),
      times(3, () => visible(around(t), { channel: 0, author: rng.pick(others) })),
    );
  }
  // 9. in:#channel — a public named channel other than #general.
  {
    const t = token();
    const pubs = plan.publicNamed.filter((c) => c !== 0);
    const c = rng.pick(pubs);
    const elsewhere = plan.visible.filter((v) => v !== c);
    add(
      'in',
      'in:#channel',
      `${t} in:#${plan.channels[c].name}`,
      times(4, () => visible(around(t), { channel: c })),
      times(3, () => visible(around(t), { channel: rng.pick(elsewhere) })),
    );
  }
  // 10. has:link
  {
    const t = token();
    add(
      'has-link',
      'has:link',
      `${t} has:link`,
      times(4, (i) => visible(around(`${t} https://docs.example.com/${t}/${i}`))),
      times(3, () => visible(around(`${t} no link here`))),
    );
  }
  // 11. is:thread — replies under planted roots (the roots do not carry the token).
  {
    const t = token();
    const answers: string[] = [];
    for (let r = 0; r < 2; r++) {
      const channel = rng.pick(plan.visible);
      const rs = slot(0.1, 0.5);
      put(rs, { channel, author: memberOf(channel), text: filler(8), root: true });
      for (let k = 0; k < 2; k++) {
        const s = slot(rs / n + 0.0001, Math.min(0.98, rs / n + 0.2));
        answers.push(put(s, { channel, author: memberOf(channel), text: around(t), parentSlot: rs }));
      }
    }
    add(
      'is-thread',
      'is:thread (replies in threads)',
      `${t} is:thread`,
      answers,
      times(3, () => visible(around(t))),
    );
  }
  // 12./13. before: / after: a day in the middle; answers and distractors months away from it.
  {
    const day = isoDay(slotMs(n, Math.floor(n / 2)));
    const t = token();
    add(
      'before',
      'before:date',
      `${t} before:${day}`,
      times(3, () => visible(around(t), { lo: 0.05, hi: 0.4 })),
      times(3, () => visible(around(t), { lo: 0.6, hi: 0.95 })),
    );
    const u = token();
    add(
      'after',
      'after:date',
      `${u} after:${day}`,
      times(3, () => visible(around(u), { lo: 0.6, hi: 0.95 })),
      times(3, () => visible(around(u), { lo: 0.05, hi: 0.4 })),
    );
  }
  // 14. on:date — the free slots of one UTC day; distractors a week either side.
  {
    const t = token();
    const mid = slotMs(n, Math.floor(n * 0.3));
    const dayStart = mid - (mid % 86_400_000) + 86_400_000;
    const first = Math.ceil(((dayStart - T_START) * n) / T_SPAN);
    const last = Math.floor(((dayStart + 86_400_000 - 1 - T_START) * n) / T_SPAN);
    const answers: string[] = [];
    for (let s = first; s <= last && answers.length < 3; s++) {
      if (planted.has(s) || isoDay(slotMs(n, s)) !== isoDay(dayStart)) continue;
      const channel = rng.pick(plan.visible);
      answers.push(put(s, { channel, author: memberOf(channel), text: around(t) }));
    }
    const week = (7 * 86_400_000 * n) / T_SPAN / n;
    const f = first / n;
    add('on', 'on:date', `${t} on:${isoDay(dayStart)}`, answers, [
      visible(around(t), { lo: f - week, hi: f - week / 2 }),
      visible(around(t), { lo: f + week, hi: f + week * 1.5 }),
    ]);
  }
  // 15. -excluded word.
  {
    const a = token();
    const b = token();
    add(
      'exclude',
      '-excluded word',
      `${a} -${b}`,
      times(4, () => visible(around(a))),
      times(3, () => visible(around(`${a} ${b}`))),
    );
  }
  // 16. Operators together.
  {
    const t = token();
    const x = 2 + rng.int(plan.users.length - 2);
    const others = plan.channels[0].members.filter((m) => m !== x);
    const elsewhere = plan.visible.filter((c) => c !== 0 && plan.channels[c].members.includes(x));
    const distractors = times(2, () => visible(around(t), { channel: 0, author: rng.pick(others) }));
    if (elsewhere.length) distractors.push(visible(around(t), { channel: rng.pick(elsewhere), author: x }));
    add(
      'combined',
      'words with from: and in: together',
      `${t} in:#general from:@${plan.users[x].username}`,
      times(3, () => visible(around(t), { channel: 0, author: x })),
      distractors,
    );
  }
  // 17. Many answers: recall needs the next pages.
  {
    const t = token();
    add(
      'many',
      '25 answers: recall over pages',
      t,
      times(25, () => visible(around(t))),
      [],
    );
  }
  // 18./19. A CJK word and a Hebrew word, space-delimited, beside a token.
  {
    const t = token();
    add(
      'cjk',
      'CJK word with a token',
      `${t} 東京`,
      times(3, () => visible(around(`${t} 東京`))),
      times(2, () => visible(around(t))),
    );
    const u = token();
    add(
      'rtl',
      'Hebrew word with a token',
      `${u} שלום`,
      times(3, () => visible(around(`${u} שלום`))),
      times(2, () => visible(around(u))),
    );
  }
  // 20. Ranking by recency: 30 messages with the same text, spread over the year; equally
  // relevant by their words, so "relevance with recency" must put the 10 newest on the first page.
  {
    const t = token();
    const text = `${t} status update for the team`;
    const slots = times(30, (i) => slot(0.05 + (0.9 * i) / 30, 0.05 + (0.9 * (i + 1)) / 30)).sort((x, y) => y - x);
    const ids = slots.map((sl) => {
      const channel = rng.pick(plan.visible);
      return put(sl, { channel, author: memberOf(channel), text });
    });
    add('recency', 'ranking: same text, the 10 newest first', t, ids.slice(0, 10), ids.slice(10));
  }
  return { planted, set: { version: 1, username: plan.users[plan.searcher].username, queries } };
}
