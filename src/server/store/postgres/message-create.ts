// messages.create — the send hot path — with group commit.
//
// Calls are queued; each flush (next event-loop turn, or when a batch slot frees up) writes the
// queued calls with ONE set-based statement (message-sql.ts): one round trip, one transaction, one WAL
// flush and one executor start-up for the whole batch. Measured on this 2-core box (shared, so
// wall-clock figures are noisy; backend CPU from /proc is not), 32 senders over 8 channels:
// - one statement per message (a 10-CTE statement, autocommit): ~1,060 msg/s, and only ~280 msg/s
//   into ONE channel, whose row lock is held across every commit's WAL flush;
// - per-message statements inside one PL/pgSQL call: ~0.37 ms backend CPU per message, half of
//   it per-statement overhead (0.18 ms with nothing written);
// - this set-based batch: ~0.24 ms backend CPU + ~0.08 ms Node CPU per message.
//
// Independence of outcomes (store.ts allows group commit only if each call's outcome is its own):
// when the server rejects the batch statement (a concurrent duplicate clientMsgId from another
// batch or node, bad input in one element...) nothing of it was written, and every call of the
// batch is retried alone, as a batch of one, whose outcome depends only on itself. (A lost
// connection is not retried: the batch may have committed; each call fails with that error.)
// Repeated clientMsgIds inside one batch are resolved here: the later calls wait for the first.
//
// Deadlocks: a batch locks its channel rows in id order (lk), before anything else but the files
// its calls name (fl, FILES_SQL: all of them, in file id order, before any channel row; no other
// writer of files takes a channel lock), so batches in flight together never wait on each other
// in a cycle. Every other lock a batch takes (parent message, author's member row) belongs to one
// of those channels.
import type pg from 'pg';
import { AppError, SendRefused } from '../../errors.js';
import type { CreateMessageResult, Message, NewMessage, Notification, NotificationKind } from '../types.js';
import { FILES_PLAIN_SQL, FILES_SQL, FULL_SQL, ONE_PLAIN_SQL, PLAIN_SQL } from './message-sql.js';
import { insertedMessage } from './rows.js';
import type { FileObject } from '../../../protocol/files.js';

/** A batch is also one statement's working set; beyond this, latency grows without gain. */
const MAX_BATCH = 64;

interface Pending {
  input: NewMessage;
  /** A message with files (createWithFiles): the snapshot written with it. */
  files?: FileObject[];
  createdAt: string;
  mentionIds: string[];
  resolve(r: CreateMessageResult): void;
  reject(e: unknown): void;
}

interface BatchRow {
  idx: number;
  seq: number | null;
  existing_id: string | null;
  notes: string[] | null;
  /** NewMessage.checkAuthor refused the call: nothing of it was written. */
  refused: boolean;
  /** FILES_SQL, FILES_PLAIN_SQL: some file is not the author's own unattached upload; nothing of the call was written. */
  not_attachable?: boolean;
}

/** createWithFiles: a file is not the author's own unattached upload (or is gone); nothing was written. */
export class NotAttachable extends Error {}

type LoadOriginal = (channelId: string, authorId: string, clientMsgId: string) => Promise<Message | undefined>;

const asIso = (t: string) => {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toISOString();
};

const clientKey = (m: NewMessage) => (m.clientMsgId == null ? undefined : `${m.channelId}\u0000${m.authorId}\u0000${m.clientMsgId}`);

export class MessageWriter {
  private queue: Pending[] = [];
  private inflight = 0;
  private scheduled = false;

  /**
   * @param maxInflight concurrent batches (pool connections used by sends at most). While they
   *   are busy, new calls queue up and leave together: batches grow with the load on their own.
   */
  constructor(
    private readonly pool: pg.Pool,
    private readonly loadOriginal: LoadOriginal,
    private readonly maxInflight: number,
  ) {}

  create(input: NewMessage): Promise<CreateMessageResult> {
    return this.enqueue(input);
  }

  /**
   * A message with files (postgres/files.ts): queued with the other sends; its batch is written by
   * FILES_SQL (or FILES_PLAIN_SQL), one autocommit statement that locks and attaches the files and
   * writes each message with `files` as its snapshot. Rejects with
   * NotAttachable when a file is not the author's own unattached upload; a repeated clientMsgId
   * resolves to the original (created=false), as create() does.
   */
  createWithFiles(input: NewMessage, files: FileObject[]): Promise<CreateMessageResult> {
    return this.enqueue(input, files);
  }

  private enqueue(input: NewMessage, files?: FileObject[]): Promise<CreateMessageResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({
        input,
        files,
        createdAt: asIso(input.createdAt),
        mentionIds: [...new Set((input.mentions?.userIds ?? []).map(String))],
        resolve,
        reject,
      });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.queue.length > 0 && this.inflight < this.maxInflight) {
      // A batch ends before a call naming a file an earlier call of it names (rare: the same
      // upload sent twice at once): one statement cannot tell which of the two will be written,
      // and each call's outcome must stay its own. So no file is named twice in a batch.
      let n = 0;
      const named = new Set<string>();
      for (; n < MAX_BATCH && n < this.queue.length; n++) {
        const ids = this.queue[n].files ? this.queue[n].input.fileIds : [];
        if (ids.some((id) => named.has(id))) break;
        for (const id of ids) named.add(id);
      }
      const batch = this.queue.splice(0, Math.max(1, n));
      this.inflight++;
      this.runBatch(batch).finally(() => {
        this.inflight--;
        if (this.queue.length > 0) this.schedule();
      });
    }
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    // Same clientMsgId twice in one batch: only the first is written; the others follow it.
    const firsts: Pending[] = [];
    const followers = new Map<Pending, Pending[]>();
    const byKey = new Map<string, Pending>();
    for (const p of batch) {
      const key = clientKey(p.input);
      const first = key === undefined ? undefined : byKey.get(key);
      if (first) followers.get(first)!.push(p);
      else {
        if (key !== undefined) byKey.set(key, p);
        firsts.push(p);
        followers.set(p, []);
      }
    }
    const settleFollowers = (first: Pending, outcome: Promise<CreateMessageResult>) => {
      for (const f of followers.get(first) ?? []) {
        outcome.then((r) => f.resolve({ message: structuredClone(r.message), created: false, notifications: [] }), f.reject);
      }
    };
    const outcomes = firsts.map((p) => {
      const out = new Promise<CreateMessageResult>((res, rej) => {
        const { resolve, reject } = p;
        p.resolve = (r) => {
          resolve(r);
          res(r);
        };
        p.reject = (e) => {
          reject(e);
          rej(e);
        };
      });
      out.catch(() => {});
      settleFollowers(p, out);
      return out;
    });
    await this.write(firsts, firsts.length > 1);
    await Promise.allSettled(outcomes);
  }

  /** One statement for the calls; on failure, each call again alone (when `split`). */
  private async write(calls: Pending[], split: boolean): Promise<void> {
    let rows: BatchRow[];
    try {
      const plain = calls.every(isPlain);
      const r = calls.some((p) => p.files)
        ? await this.pool.query<BatchRow>({
            name: plain ? 'nchat_msg_create_files_plain' : 'nchat_msg_create_files',
            text: plain ? FILES_PLAIN_SQL : FILES_SQL,
            values: [JSON.stringify(calls.map((p, i) => toJson(p, i)))],
          })
        : plain && calls.length === 1
          ? await this.pool.query<BatchRow>({ name: 'nchat_msg_create_one', text: ONE_PLAIN_SQL, values: oneValues(calls[0]) })
          : await this.pool.query<BatchRow>({
              name: plain ? 'nchat_msg_create_plain' : 'nchat_msg_create_full',
              text: plain ? PLAIN_SQL : FULL_SQL,
              values: [JSON.stringify(calls.map((p, i) => toJson(p, i)))],
            });
      rows = r.rows;
    } catch (err) {
      // Only a server-reported error (SQLSTATE) proves the statement rolled back. After a lost
      // connection the batch may have committed: retrying could write a message twice.
      const code = (err as { code?: unknown })?.code;
      const rolledBack = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
      if (split && rolledBack) {
        await Promise.all(calls.map((p) => this.write([p], false)));
      } else if (
        calls.length === 1 &&
        (err as { code?: string })?.code === '23505' &&
        (err as { constraint?: string }).constraint === 'messages_client_msg_key'
      ) {
        // Lost a race with a concurrent send of the same clientMsgId: the winner has committed.
        this.duplicate(calls[0]);
      } else {
        for (const p of calls) p.reject(err);
      }
      return;
    }
    const seen = new Set<number>();
    for (const row of rows) {
      const p = calls[row.idx];
      if (!p || seen.has(row.idx)) continue;
      seen.add(row.idx);
      this.settle(p, row);
    }
    for (let i = 0; i < calls.length; i++) if (!seen.has(i)) calls[i].reject(new Error('message missing from batch result'));
  }

  private settle(p: Pending, row: BatchRow): void {
    if (row.refused) return p.reject(new SendRefused(p.input.channelId));
    if (row.existing_id) return this.duplicate(p);
    if (row.not_attachable) return p.reject(new NotAttachable());
    if (row.seq == null) return p.reject(new AppError('NOT_FOUND', 'channel not found'));
    const input = p.input;
    const seq = Number(row.seq);
    const message = insertedMessage(input, seq, p.mentionIds, p.createdAt);
    if (p.files) message.files = p.files;
    const notifications: Notification[] = (row.notes ?? []).map((n) => {
      // "kind:userId:id" — kind and the generated id contain no ':'.
      const a = n.indexOf(':');
      const b = n.lastIndexOf(':');
      return {
        id: n.slice(b + 1),
        userId: n.slice(a + 1, b),
        kind: n.slice(0, a) as NotificationKind,
        channelId: input.channelId,
        messageId: input.id,
        seq,
        actorId: input.authorId,
        createdAt: p.createdAt,
        readAt: null,
      };
    });
    notifications.sort((x, y) => (x.userId < y.userId ? -1 : x.userId > y.userId ? 1 : 0));
    p.resolve({ message, created: true, notifications });
  }

  /** A repeated clientMsgId: the original (committed by now) with created=false. */
  private duplicate(p: Pending): void {
    const { channelId, authorId, clientMsgId } = p.input;
    this.loadOriginal(channelId, authorId, String(clientMsgId)).then((original) => {
      if (original) p.resolve({ message: original, created: false, notifications: [] });
      else p.reject(new Error('original message for a repeated clientMsgId not found'));
    }, p.reject);
  }
}

/** Nothing to write beyond the message itself and the author's read position. */
function isPlain(p: Pending): boolean {
  const n = p.input.notify;
  return p.mentionIds.length === 0 && !p.input.parentId && !n?.allMembers && !n?.mentionUserIds?.length;
}

/** ONE_PLAIN_SQL's parameters, for a call that isPlain. */
function oneValues(p: Pending): unknown[] {
  const m = p.input;
  return [
    m.id,
    m.channelId,
    m.authorId,
    m.text,
    m.clientMsgId ?? null,
    p.createdAt,
    !!m.mentions?.channel,
    !!m.mentions?.here,
    !!m.checkAuthor,
  ];
}

/** One call as a row of the send statement's recordset; `files`: the snapshot written with its message. */
function toJson(p: Pending, idx: number) {
  const m = p.input;
  const notify = m.notify ?? { mentionUserIds: [], allMembers: null, threadParticipants: false };
  return {
    idx,
    id: m.id,
    channel_id: m.channelId,
    author_id: m.authorId,
    body: m.text,
    client_msg_id: m.clientMsgId ?? null,
    parent_id: m.parentId ?? null,
    mention_user_ids: p.mentionIds,
    mention_channel: !!m.mentions?.channel,
    mention_here: !!m.mentions?.here,
    // Only a call from createWithFiles names files to lock and attach (with its snapshot, `files`).
    file_ids: p.files ? (m.fileIds ?? []) : [],
    created_at: p.createdAt,
    notify_mention_ids: notify.mentionUserIds ?? [],
    all_members: notify.allMembers ?? null,
    thread_participants: !!notify.threadParticipants && !!m.parentId,
    check_author: !!m.checkAuthor,
    files: p.files ?? null,
  };
}
