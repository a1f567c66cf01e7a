// Builders shared by the contract suite. Every name is unique per call (run tag + fixed-width
// counter), so one store instance, even a reused database, can serve the whole suite.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AppError, type ErrorCode } from '../../errors.js';
import { newId } from '../../ids.js';
import type { SearchSpec } from '../../search/ast.js';
import { parseQuery } from '../../search/parse.js';
import type { Store } from '../store.js';
import type { Channel, Mentions, NewMessage, User } from '../types.js';

export interface Ctx {
  /** Set by the suite's before() hook. */
  store: Store;
}

const runTag = Array.from(randomBytes(5), (b) => 'abcdefghijklmnopqrstuvwxyz'[b % 26]).join('');
let counter = 0;

/**
 * A fresh lower-case alphanumeric name. The counter is fixed-width so no generated name is a
 * prefix of another one with the same leading letters (keeps name-range assertions exact).
 */
export function uniq(prefix: string): string {
  return `${prefix}${runTag}${(counter++).toString(36).padStart(5, '0')}`;
}

/** ISO time `offsetMs` after a fixed base, for ordering assertions that must not depend on the clock. */
const base = Date.now();
export const at = (offsetMs = 0) => new Date(base + offsetMs).toISOString();
let tick = 0;
/** Strictly increasing ISO times. */
export const nextAt = () => at(++tick * 1000);

export async function mkUser(s: Store, over: { displayName?: string; role?: User['role'] } = {}): Promise<User> {
  const username = uniq('u');
  return s.users.create({
    id: newId(),
    username,
    email: `${username}@example.test`,
    displayName: over.displayName ?? `User ${username}`,
    passwordHash: `hash-${username}`,
    role: over.role ?? 'member',
    createdAt: nextAt(),
  });
}

export async function mkUsers(s: Store, n: number): Promise<User[]> {
  const out: User[] = [];
  for (let i = 0; i < n; i++) out.push(await mkUser(s));
  return out;
}

export async function mkChannel(
  s: Store,
  owner: User,
  over: { name?: string; type?: 'public' | 'private'; members?: User[] } = {},
): Promise<Channel> {
  const ch = await s.channels.create({
    id: newId(),
    type: over.type ?? 'public',
    name: over.name ?? uniq('c'),
    description: 'desc',
    topic: 'topic',
    createdBy: owner.id,
    createdAt: nextAt(),
  });
  if (over.members?.length) {
    await s.channels.addMembers(
      ch.id,
      over.members.map((m) => ({ userId: m.id, role: 'member' as const })),
      nextAt(),
    );
  }
  return (await s.channels.get(ch.id))!;
}

export const noMentions = (): Mentions => ({ userIds: [], channel: false, here: false });

export function newMsg(channel: Channel | string, author: Pick<User, 'id'>, over: Partial<NewMessage> = {}): NewMessage {
  return {
    id: newId(),
    channelId: typeof channel === 'string' ? channel : channel.id,
    authorId: author.id,
    text: 'hello',
    clientMsgId: null,
    parentId: null,
    mentions: noMentions(),
    fileIds: [],
    createdAt: nextAt(),
    notify: { mentionUserIds: [], allMembers: null, threadParticipants: false },
    ...over,
  };
}

/** Posts `n` plain messages and returns them in seq order. */
export async function post(s: Store, channel: Channel, author: User, n: number) {
  const out = [];
  for (let i = 0; i < n; i++) out.push((await s.messages.create(newMsg(channel, author, { text: `m${i}` }))).message);
  return out;
}

export async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AppError, `expected AppError ${code}, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

export const sorted = (xs: string[]) => [...xs].sort();
export const seqs = (ms: { seq: number }[]) => ms.map((m) => m.seq);

/** A search spec from query text (the parser's terms and filters) plus overrides: relevance, 20 a page. */
export function searchSpec(userId: string, q: string, over: Partial<SearchSpec> = {}): SearchSpec {
  const p = parseQuery(q);
  return {
    userId,
    include: p.include,
    exclude: p.exclude,
    channelIds: [],
    authorIds: [],
    has: p.has,
    before: p.before,
    after: p.after,
    isThread: p.isThread,
    sort: 'relevance',
    limit: 20,
    offset: 0,
    ...over,
  };
}
