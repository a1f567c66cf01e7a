// The seeder's language: a Zipf-distributed vocabulary (common English and team-chat words first,
// then ~20,000 pronounceable made-up words as the long tail), people's names, code snippets,
// links, accented Latin words and some CJK, Arabic and Hebrew text. Deterministic given the Rng.
//
// Contract with relevance.ts: nothing produced here contains the letters "zq" anywhere, so a
// planted token starting with "zq" occurs only where the relevance set put it.
import { Rng, Zipf } from './rng.js';

const COMMON = `the to and a of i is it you that in for we this on be with have are not just do can
but so if at will my me all about what was get think like there should one they up now know out
from our an or your no yes need make when see go ok more time here also going would how thanks
deploy build test release review merge branch issue bug fix ticket meeting standup sprint team
customer server database query cache index latency error log logs alert dashboard metrics api
client request response timeout retry queue worker job pipeline config staging production
rollback incident postmortem design doc spec feature flag endpoint schema migration backup
monitor page oncall shift handoff ship launch demo sync call update status blocked done progress
today tomorrow yesterday week monday friday morning afternoon later soon asap quick question
please could someone check look again maybe probably definitely great good nice cool awesome
sure right wrong problem issue works broken slow fast memory cpu disk network load traffic
user users account password login session token permission role admin owner channel thread
message reply mention search notification email file image upload download link report chart
number numbers percent budget plan roadmap quarter goal goals priority estimate deadline scope
frontend backend mobile web android ios browser css html javascript typescript python rust go
docker kubernetes cluster node pod container image registry terraform aws cloud region zone
coffee lunch break holiday vacation weekend office remote home travel flight hotel conference
happy sorry welcome congrats birthday team everyone folks people anyone thing things stuff idea
ideas plan notes agenda minutes draft final version feedback comment comments approve approved`
  .split(/\s+/)
  .filter(Boolean);

const FIRST = `Ada Alan Alice Amir Ana Anders Anna Aryan Astrid Beatriz Ben Bianca Carlos Chen Chloe Dara
David Diego Elena Emeka Emma Erik Farah Fatima Felix Freya Grace Hana Hassan Ines Ivan Jamal Jana
Jonas Jorge Julia Kai Kenji Lara Leila Leo Lina Lucas Luis Maya Mei Mia Mikael Nadia Naomi Nia
Noah Olga Omar Oscar Pablo Priya Quentin Rafael Rania Ravi Rosa Sami Sara Sofia Tariq Tess Theo
Uma Valentina Victor Wei Yara Yusuf Zara Zoe`
  .split(/\s+/)
  .filter(Boolean);
const LAST = `Abe Adeyemi Almeida Andersen Bauer Becker Cohen Costa Dubois Eriksson Fischer Garcia Haddad
Hansen Ito Jansen Kim Kowalski Larsen Lopez Martin Meyer Moreau Nakamura Nguyen Novak Okafor Olsen
Park Patel Petrov Quinn Rossi Santos Sato Schmidt Silva Singh Smith Tanaka Torres Varga Wagner
Walker Weber Wong Yamamoto Young Zhang`
  .split(/\s+/)
  .filter(Boolean);

/** Accented Latin words (folded forms are ordinary words: cafe, resume…). */
const ACCENTED = `café résumé naïve façade jalapeño crème brûlée déjà señor mañana Zürich São Paulo Kraków
Málaga Göteborg smørrebrød Ångström über Müller garçon fiancée coöperate piñata Łódź Škoda Citroën
élève été fête forêt hôtel rôle niño año corazón`
  .split(/\s+/)
  .filter(Boolean);

const CJK = ['東京', '会議', '検索', '明日', '資料', '確認', 'お願い', '北京', '项目', '发布', '服务器', '테스트', '회의', '배포'];
const RTL = ['مرحبا', 'اجتماع', 'شكرا', 'غدا', 'שלום', 'פגישה', 'תודה', 'מחר'];
const EMOJI = ['🎉', '👍', '🚀', '😅', '🔥', '✅', '👀', '🙏'];
const HOSTS = ['github.com/acme/api', 'docs.example.com', 'grafana.internal.example', 'jira.example.com/browse', 'wiki.example.org/page'];
const CODE = [
  'const user = await db.getUser(id);',
  'SELECT count(*) FROM orders WHERE status = $1;',
  'kubectl rollout restart deploy/api',
  'git rebase -i HEAD~3',
  'if (err) return next(err);',
  'npm run build && npm test',
  'for i in range(10): print(i)',
  'curl -s localhost:8080/health',
];
export const EMOJI_NAMES = ['thumbsup', '+1', 'tada', 'eyes', 'heart', 'joy', 'rocket', 'white_check_mark', 'pray', 'fire'];

const ONSET = ['b', 'd', 'f', 'g', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'br', 'dr', 'gr', 'kr', 'st', 'tr', 'pl', 'sl', 'ch', 'sh'];
const VOWEL = ['a', 'e', 'i', 'o', 'u', 'ai', 'ea', 'io', 'ou'];
const CODA = ['', '', '', 'n', 'r', 's', 'l', 'm', 'x', 'nd', 'st', 'rt'];

/** The made-up long tail: deterministic from its own stream, de-duplicated, no "zq", no real word clash. */
function tailWords(count: number): string[] {
  const rng = new Rng(0x5eed, 7); // fixed: the vocabulary is the same for every seed
  const seen = new Set<string>(COMMON);
  const out: string[] = [];
  while (out.length < count) {
    const syll = rng.range(2, 4);
    let w = '';
    for (let i = 0; i < syll; i++) w += rng.pick(ONSET) + rng.pick(VOWEL);
    w += rng.pick(CODA);
    if (w.length < 4 || seen.has(w)) continue;
    seen.add(w);
    out.push(w);
  }
  return out;
}

export interface Person {
  username: string;
  displayName: string;
}

/** Deterministic people: "Ana Silva" → ana.silva, a number appended when taken. */
export function people(rng: Rng, n: number): Person[] {
  const taken = new Set<string>();
  const out: Person[] = [];
  for (let i = 0; i < n; i++) {
    const f = rng.pick(FIRST);
    const l = rng.pick(LAST);
    let u = `${f}.${l}`.toLowerCase().replace(/[^a-z0-9._-]/g, '');
    if (taken.has(u)) u = `${u}${i}`;
    taken.add(u);
    out.push({ username: u, displayName: `${f} ${l}` });
  }
  return out;
}

/** What the text generator needs to know about the channel it writes in. */
export interface TextContext {
  /** Usernames that may be @mentioned (channel members), with their user ids. */
  members: readonly { id: string; username: string }[];
}

export interface GeneratedText {
  text: string;
  mentionUserIds: string[];
  mentionChannel: boolean;
}

export class Vocabulary {
  readonly words: string[];
  private readonly zipf: Zipf;

  constructor(tailSize = 20_000) {
    this.words = [...COMMON, ...tailWords(tailSize)];
    this.zipf = new Zipf(this.words.length, 1.05);
  }

  word(rng: Rng): string {
    return this.words[this.zipf.draw(rng)];
  }

  words_(rng: Rng, n: number): string {
    let s = this.word(rng);
    for (let i = 1; i < n; i++) s += ` ${this.word(rng)}`;
    return s;
  }

  /** One ordinary chat message (the mix of kinds is stated inline). */
  message(rng: Rng, ctx: TextContext): GeneratedText {
    const mentionUserIds: string[] = [];
    let mentionChannel = false;
    const r = rng.next();
    let text: string;
    if (r < 0.62) {
      text = this.words_(rng, rng.range(3, 18)); // plain talk
    } else if (r < 0.72 && ctx.members.length > 1) {
      const m = rng.pick(ctx.members); // @mention
      mentionUserIds.push(m.id);
      text = `@${m.username} ${this.words_(rng, rng.range(3, 12))}`;
    } else if (r < 0.79) {
      text = `${this.words_(rng, rng.range(2, 8))} https://${rng.pick(HOSTS)}/${this.word(rng)}-${rng.int(10_000)}`; // link
    } else if (r < 0.84) {
      const code = rng.pick(CODE); // code, inline or block
      text = rng.chance(0.5)
        ? `${this.words_(rng, rng.range(2, 6))} \`${code}\``
        : `${this.words_(rng, rng.range(1, 5))}\n\`\`\`\n${code}\n\`\`\``;
    } else if (r < 0.9) {
      text = `${this.words_(rng, rng.range(2, 6))} ${rng.pick(ACCENTED)} ${this.words_(rng, rng.range(1, 6))}`; // accents
    } else if (r < 0.93) {
      text = `${rng.pick(CJK)} ${rng.pick(CJK)} ${rng.pick(CJK)}${rng.pick(CJK)} ${this.word(rng)}`; // CJK, partly unsegmented
    } else if (r < 0.95) {
      text = `${rng.pick(RTL)} ${rng.pick(RTL)} ${this.words_(rng, rng.range(1, 4))}`; // Arabic / Hebrew
    } else if (r < 0.955) {
      mentionChannel = true; // @channel (rare, as in real teams)
      text = `@channel ${this.words_(rng, rng.range(4, 12))}`;
    } else {
      text = `${this.words_(rng, rng.range(6, 30))}. ${this.words_(rng, rng.range(4, 20))}`; // longer
    }
    if (rng.chance(0.06)) text += ` ${rng.pick(EMOJI)}`;
    return { text, mentionUserIds, mentionChannel };
  }
}
