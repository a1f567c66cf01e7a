// The message list: virtualized (@tanstack/react-virtual, only the visible rows are in the DOM,
// so 10,000+ messages scroll smoothly), loads older pages when scrolled near the top (keeping the
// view where it was), follows new messages while at the bottom, opens at the "new messages"
// divider, and scrolls to a focused message (search, notifications). After a jump to an older
// message the loaded range stops short of the newest (hasNewer): near the bottom it loads the
// next page forward, and does not follow the appended rows (they are read by scrolling on).
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useLayoutEffect, useMemo, useRef } from 'react';
import { useChat, useStore } from '../hooks.js';
import type { Message } from '../../../src/protocol/index.js';
import type { Pending } from '../realtime.js';
import { buildRows, type Row } from '../rows.js';
import { MessageItem, PendingItem } from './MessageItem.js';

/**
 * The last rows built per channel: switching back to a channel whose messages did not change
 * reuses them instead of walking its whole history again (10,000 messages: a few ms saved per switch).
 */
const rowCache = new Map<string, { inputs: unknown[]; rows: Row[] }>();
function cachedRows(channelId: string, list: Message[], dividerSeq: number | null, meId: string | undefined, pending: Pending[]): Row[] {
  const inputs = [list, dividerSeq, meId, pending.length === 0 ? 0 : pending];
  const hit = rowCache.get(channelId);
  if (hit?.inputs.every((v, i) => v === inputs[i])) return hit.rows;
  const rows = buildRows(list, dividerSeq, meId, pending);
  rowCache.set(channelId, { inputs, rows });
  return rows;
}

/** Within 300 px of the end: time to ask for the next page forward. */
function nearBottom(el: HTMLElement): boolean {
  return el.scrollHeight - el.scrollTop - el.clientHeight < 300;
}

export function MessageList({ channelId }: { channelId: string }) {
  const chat = useChat();
  const cm = useStore((s) => s.messages.get(channelId));
  const dividerSeq = useStore((s) => s.dividerSeq);
  const focusSeq = useStore((s) => s.focusSeq);
  const meId = useStore((s) => s.me?.id);
  const outbox = useStore((s) => s.outbox);
  const pending = useMemo(() => outbox.filter((p) => p.channelId === channelId), [outbox, channelId]);
  const rows = useMemo(
    () => cachedRows(channelId, cm?.list ?? [], dividerSeq, meId, pending),
    [channelId, cm?.list, dividerSeq, meId, pending],
  );
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const opened = useRef(false);
  const prevFirst = useRef<string | undefined>(undefined);
  const fromBottom = useRef(0);
  /** The list's generation at the last render: a new one means the range was replaced. */
  const prevGeneration = useRef(cm?.generation ?? 0);
  /** Whether the last render's range stopped short of the newest message (rows then come from paging). */
  const wasPaging = useRef(false);
  /** The focused seq already scrolled to: later row changes (pages, live messages) must not pull the view back. */
  const scrolledFocus = useRef<number | null>(null);

  const v = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: (i) => (rows[i]?.kind === 'message' && !(rows[i] as { grouped: boolean }).grouped ? 64 : 32),
    getItemKey: (i) => rows[i].key,
    overscan: 8,
  });

  // First render with messages: the divider (when there is one) or the end; or the focused message.
  useLayoutEffect(() => {
    if (opened.current || rows.length === 0) return;
    opened.current = true;
    const target =
      focusSeq !== null
        ? rows.findIndex((r) => r.kind === 'message' && r.message.seq === focusSeq)
        : rows.findIndex((r) => r.kind === 'divider');
    if (target >= 0) v.scrollToIndex(target, { align: 'center' });
    else v.scrollToIndex(rows.length - 1, { align: 'end' });
    if (target >= 0 && focusSeq !== null) scrolledFocus.current = focusSeq;
  }, [rows, focusSeq, v]);

  // Range replaced (a jump, the latest page again): the focused message (below) or the end.
  // Older page prepended: keep the same distance from the bottom so the view does not jump.
  // New rows at the end while at the bottom: follow them, unless they came from paging forward.
  const generation = cm?.generation ?? 0;
  const hasNewer = cm?.hasNewer ?? false;
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || rows.length === 0) return;
    const first = rows[0].key;
    const paging = wasPaging.current || hasNewer;
    if (generation !== prevGeneration.current) {
      if (focusSeq === null) v.scrollToIndex(rows.length - 1, { align: 'end' });
    } else if (prevFirst.current !== undefined && first !== prevFirst.current) el.scrollTop = v.getTotalSize() - fromBottom.current;
    else if (atBottom.current && opened.current && !paging) v.scrollToIndex(rows.length - 1, { align: 'end' });
    prevFirst.current = first;
    prevGeneration.current = generation;
    wasPaging.current = hasNewer;
  }, [rows, v, generation, hasNewer, focusSeq]);

  // A focused message scrolls into view once, when its row is there (a jump's page may come later).
  useEffect(() => {
    if (focusSeq === null || !opened.current || scrolledFocus.current === focusSeq) return;
    const i = rows.findIndex((r) => r.kind === 'message' && r.message.seq === focusSeq);
    if (i < 0) return;
    v.scrollToIndex(i, { align: 'center' });
    scrolledFocus.current = focusSeq;
  }, [focusSeq, rows, v]);

  // Paging forward: near the bottom of a range that stops short of the newest message, load the
  // next page, also when a page arrives while the view already sits there (it may not fill it).
  const loadingNewer = cm?.loadingNewer ?? false;
  useEffect(() => {
    const el = scroller.current;
    if (el && rows.length > 0 && opened.current && hasNewer && !loadingNewer && nearBottom(el)) void chat.loadNewer(channelId);
  }, [rows, hasNewer, loadingNewer, chat, channelId]);

  // Read only what was seen: at the bottom, with the tab visible (and again when it becomes visible).
  useEffect(() => {
    if (atBottom.current && document.visibilityState === 'visible') chat.markRead(channelId);
  }, [rows, chat, channelId]);
  useEffect(() => {
    const onVisible = () => {
      if (atBottom.current && document.visibilityState === 'visible') chat.markRead(channelId);
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [chat, channelId]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    fromBottom.current = v.getTotalSize() - el.scrollTop;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (atBottom.current && document.visibilityState === 'visible') chat.markRead(channelId);
    if (el.scrollTop < 300 && cm && !cm.complete && !cm.loading) void chat.loadOlder(channelId);
    if (cm?.hasNewer && !cm.loadingNewer && nearBottom(el)) void chat.loadNewer(channelId);
  };

  return (
    <div
      className="messages"
      ref={scroller}
      onScroll={onScroll}
      role="log"
      aria-label="Message history"
      aria-live="polite"
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take keyboard focus so it can be scrolled with the keys
      tabIndex={0}
      data-testid="message-list"
    >
      {cm?.loading && <div className="loading-older">Loading…</div>}
      {cm?.complete && rows.length === 0 && <p className="empty">No messages yet. Say hello!</p>}
      <div style={{ height: v.getTotalSize(), position: 'relative' }}>
        {v.getVirtualItems().map((vi) => {
          const r = rows[vi.index];
          return (
            <div
              key={vi.key}
              data-index={vi.index}
              ref={v.measureElement}
              className="row"
              style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${vi.start}px)` }}
            >
              {r.kind === 'day' && (
                // biome-ignore lint/a11y/useSemanticElements: a separator with a visible label (an <hr> cannot hold text)
                <div className="day" role="separator">
                  <span>{r.label}</span>
                </div>
              )}
              {r.kind === 'divider' && (
                // biome-ignore lint/a11y/useSemanticElements: a separator with a visible label (an <hr> cannot hold text)
                <div className="divider" role="separator" aria-label="New messages">
                  <span>New messages</span>
                </div>
              )}
              {r.kind === 'message' && <MessageItem message={r.message} grouped={r.grouped} focused={r.message.seq === focusSeq} />}
              {r.kind === 'pending' && <PendingItem pending={r.pending} />}
            </div>
          );
        })}
      </div>
      {cm?.loadingNewer && <div className="loading-older">Loading…</div>}
    </div>
  );
}
