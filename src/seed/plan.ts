// The workspace plan: who exists, which channels (named ones of varied sizes, direct messages,
// group DMs), who is a member of what, and how much each channel talks. Pure and deterministic:
// (params, seed) → the same plan on every run; nothing is written here.
import type { BulkChannel, BulkMember, BulkUser } from '../server/store/bulk.js';
import { idSalt, Rng, seededId } from './rng.js';
import { people } from './vocab.js';

export interface SeedParams {
  messages: number;
  users: number;
  channels: number;
  seed: number;
}

export const SEED_LIMITS = {
  messages: { min: 1_000, max: 10_000_000 },
  users: { min: 10, max: 100_000 },
  channels: { min: 8, max: 10_000 },
} as const;

/** The seeded history ends here and spans one year back (fixed, so a seed is reproducible). */
export const T_END = Date.UTC(2026, 10, 1);
export const T_SPAN = 365 * 86_400_000;
export const T_START = T_END - T_SPAN;

/** Username of the account the relevance set is written for (member of every answer's channel). */
export const SEARCHER = 'searcher';

export interface PlannedChannel extends BulkChannel {
  /** Member user indices (into Plan.users). */
  members: number[];
  /** Relative share of the message volume. */
  weight: number;
}

export interface Plan {
  params: SeedParams;
  salt: string;
  users: BulkUser[];
  channels: PlannedChannel[];
  /** Index of the searcher in users. */
  searcher: number;
  /** Channel indices the searcher can read (is a member of). */
  visible: number[];
  /** Private channels the searcher is not a member of (hosts of permission distractors). */
  hidden: number[];
  /** Named public channels (in:#name queries). */
  publicNamed: number[];
}

const TOPICS = ['eng', 'ops', 'design', 'product', 'sales', 'support', 'data', 'infra', 'mobile', 'web', 'qa', 'security', 'hr', 'finance'];
const KINDS = ['team', 'alerts', 'standup', 'launch', 'incidents', 'planning', 'random', 'help', 'reviews', 'social'];

/** Ids of users/channels: created in the month before the history starts, counter in its own range. */
const idCounter = { users: 1_000_000_000, channels: 2_000_000_000 };

export function buildPlan(params: SeedParams, passwordHash: string): Plan {
  const rng = new Rng(params.seed, 1);
  const salt = idSalt(params.seed);
  const userAt = (i: number) => T_START - 30 * 86_400_000 + i * 1000;
  const names = people(rng, params.users - 2);
  const users: BulkUser[] = [];
  const addUser = (username: string, displayName: string, role: BulkUser['role']) => {
    const i = users.length;
    const at = userAt(i);
    users.push({
      id: seededId(at, salt, idCounter.users + i),
      username,
      email: `${username}@seed.example`,
      displayName,
      passwordHash,
      role,
      createdAt: new Date(at).toISOString(),
    });
  };
  addUser('admin', 'Workspace Admin', 'owner');
  addUser(SEARCHER, 'Relevance Searcher', 'member');
  for (const p of names) addUser(p.username, p.displayName, 'member');

  const U = users.length;
  const all = Array.from({ length: U }, (_, i) => i);
  const channels: PlannedChannel[] = [];
  const chAt = (i: number) => T_START - 20 * 86_400_000 + i * 1000;
  const addChannel = (type: BulkChannel['type'], name: string | null, members: number[], weight: number) => {
    const i = channels.length;
    const at = chAt(i);
    const sorted = [...new Set(members)].sort((a, b) => a - b);
    const creator = sorted[0];
    channels.push({
      id: seededId(at, salt, idCounter.channels + i),
      type,
      name,
      description: name ? `Seeded ${type} channel` : '',
      createdBy: users[creator].id,
      createdAt: new Date(at).toISOString(),
      dmKey:
        type === 'direct' || type === 'group'
          ? sorted
              .map((m) => users[m].id)
              .sort()
              .join(',')
          : null,
      members: sorted,
      weight,
    });
  };

  // Named channels: #general has everyone; the rest shrink with rank (a few big, many small).
  // Volume follows a Zipf curve over a shuffled rank, so size and chattiness are not tied.
  const rankOf = rng.sample(
    Array.from({ length: params.channels }, (_, i) => i),
    params.channels,
  );
  const cdfWeight = (rank: number) => 1 / (rank + 1) ** 0.9;
  const searcherIdx = 1;
  for (let i = 0; i < params.channels; i++) {
    const isPrivate = i > 0 && i % 4 === 3;
    const size = i === 0 ? U : Math.max(3, Math.min(U, Math.round((U * 0.6) / (i + 1) ** 0.7)));
    let members = i === 0 ? all : rng.sample(all, size);
    // The searcher reads every public channel and every other private one (see Plan.hidden).
    const searcherIn = !isPrivate || i % 8 === 7;
    members = members.filter((m) => m !== searcherIdx);
    if (searcherIn) members.push(searcherIdx);
    if (members.length < 2) members.push(rng.pick(all.filter((m) => m !== searcherIdx && !members.includes(m))));
    const name = i === 0 ? 'general' : `${TOPICS[i % TOPICS.length]}-${KINDS[Math.floor(i / TOPICS.length) % KINDS.length]}-${i}`;
    addChannel(isPrivate ? 'private' : 'public', name, members, cdfWeight(rankOf[i]) * 0.8);
  }
  const named = channels.length;
  const namedWeight = channels.reduce((s, c) => s + c.weight, 0);

  // Direct messages: ~U/2 pairs plus a few of the searcher's; group DMs of 3–6: ~U/20 plus two.
  const pairs = new Set<string>();
  const dmTarget = Math.max(4, Math.floor(U / 2));
  for (let k = 0; pairs.size < dmTarget && k < dmTarget * 10; k++) {
    const a = k < 5 ? searcherIdx : rng.int(U);
    const b = rng.int(U);
    if (a === b) continue;
    const key = a < b ? `${a},${b}` : `${b},${a}`;
    if (pairs.has(key)) continue;
    pairs.add(key);
    addChannel('direct', null, [a, b], 0);
  }
  const groups = new Set<string>();
  const groupTarget = Math.max(2, Math.floor(U / 20));
  for (let k = 0; groups.size < groupTarget && k < groupTarget * 10; k++) {
    let g = rng.sample(all, rng.range(3, Math.min(6, U)));
    if (k < 2 && !g.includes(searcherIdx)) g = [...g.slice(1), searcherIdx];
    const key = [...g].sort((a, b) => a - b).join(',');
    if (groups.has(key)) continue;
    groups.add(key);
    addChannel('group', null, g, 0);
  }
  // DMs carry ~15% of the messages and group DMs ~5%, spread evenly over them.
  const dms = channels.slice(named).filter((c) => c.type === 'direct');
  const gdms = channels.slice(named).filter((c) => c.type === 'group');
  for (const c of dms) c.weight = (namedWeight * 0.15) / 0.8 / dms.length;
  for (const c of gdms) c.weight = (namedWeight * 0.05) / 0.8 / gdms.length;

  const visible: number[] = [];
  const hidden: number[] = [];
  const publicNamed: number[] = [];
  channels.forEach((c, i) => {
    if (c.members.includes(searcherIdx)) visible.push(i);
    else if (c.type === 'private') hidden.push(i);
    if (c.type === 'public') publicNamed.push(i);
  });
  return { params, salt, users, channels, searcher: searcherIdx, visible, hidden, publicNamed };
}

/** Users, channels and members as the bulk writer takes them (members: owner = creator). */
export function directoryRows(plan: Plan): { users: BulkUser[]; channels: BulkChannel[]; members: BulkMember[] } {
  const members: BulkMember[] = [];
  for (const c of plan.channels) {
    for (const m of c.members) {
      const userId = plan.users[m].id;
      members.push({ channelId: c.id, userId, role: userId === c.createdBy && c.name ? 'owner' : 'member', joinedAt: c.createdAt });
    }
  }
  const channels = plan.channels.map(({ members: _m, weight: _w, ...c }) => c);
  return { users: plan.users, channels, members };
}
