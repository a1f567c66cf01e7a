// Search (GET /api/search): a box that takes the operators (from:@user in:#channel has:file
// before:2026-01-01 "phrases" -excluded prefix*), filter chips for the common ones, type-ahead
// from /api/search/suggest, results with the matched words highlighted (the server's offsets into
// the snippet, rendered as <mark> elements around text), and a click jumps to the message.
import { type FormEvent, Fragment, useEffect, useState } from 'react';
import type { SearchReply, SearchResultItem, SearchSnippet, SuggestReply } from '../../../src/protocol/search.js';
import { ApiError } from '../api.js';
import { useChat, useStore } from '../hooks.js';

type Chip = 'here' | 'file' | 'image' | 'link' | 'thread' | 'recent';
const CHIPS: [Chip, string][] = [
  ['here', 'This channel'],
  ['file', 'Has file'],
  ['image', 'Has image'],
  ['link', 'Has link'],
  ['thread', 'In threads'],
  ['recent', 'Newest first'],
];

export function Highlighted({ snippet }: { snippet: SearchSnippet }) {
  const out: React.ReactNode[] = [];
  let at = 0;
  snippet.highlights.forEach((h, i) => {
    if (h.start < at || h.end > snippet.text.length || h.end <= h.start) return;
    out.push(<Fragment key={`t${i}`}>{snippet.text.slice(at, h.start)}</Fragment>);
    out.push(<mark key={`m${i}`}>{snippet.text.slice(h.start, h.end)}</mark>);
    at = h.end;
  });
  out.push(<Fragment key="end">{snippet.text.slice(at)}</Fragment>);
  return <>{out}</>;
}

export default function SearchPanel({ close }: { close(): void }) {
  const chat = useChat();
  const current = useStore((s) => s.currentChannelId);
  const [q, setQ] = useState('');
  const [chips, setChips] = useState<Set<Chip>>(new Set());
  const [results, setResults] = useState<SearchResultItem[] | null>(null);
  const [meta, setMeta] = useState<{ total: number; totalExact: boolean; next: string | null; ignored: string[] }>();
  const [suggest, setSuggest] = useState<SuggestReply | null>(null);
  const [err, setErr] = useState('');

  const params = (cursor?: string) => {
    const p = new URLSearchParams();
    if (q.trim()) p.set('q', q.trim());
    if (chips.has('here') && current) p.set('channelId', current);
    for (const h of ['file', 'image', 'link'] as const) if (chips.has(h)) p.set('has', h);
    if (chips.has('thread')) p.set('isThread', 'true');
    if (chips.has('recent')) p.set('sort', 'recent');
    if (cursor) p.set('cursor', cursor);
    return p;
  };

  const run = async (cursor?: string) => {
    setErr('');
    try {
      const r = await chat.api.get<SearchReply>(`/api/search?${params(cursor)}`);
      setResults((prev) => (cursor && prev ? [...prev, ...r.results] : r.results));
      setMeta({ total: r.total, totalExact: r.totalExact, next: r.nextCursor, ignored: r.ignored });
    } catch (e) {
      setErr(e instanceof ApiError && e.status === 404 ? 'Search is not available on this server.' : (e as Error).message);
    }
  };

  // Type-ahead on the word being typed.
  useEffect(() => {
    const last = /(?:^|\s)(?:from:@?|in:#?)?([\p{L}\p{N}._-]{1,64})$/u.exec(q)?.[1];
    if (!last) return setSuggest(null);
    const t = setTimeout(() => {
      chat.api.get<SuggestReply>(`/api/search/suggest?q=${encodeURIComponent(last)}&limit=5`).then(setSuggest, () => setSuggest(null));
    }, 200);
    return () => clearTimeout(t);
  }, [q, chat]);

  const complete = (word: string) => {
    setQ(q.replace(/(\S*)$/, word) + ' ');
    setSuggest(null);
  };

  const toggle = (c: Chip) => {
    const next = new Set(chips);
    if (next.has(c)) next.delete(c);
    else {
      if (['file', 'image', 'link'].includes(c)) for (const h of ['file', 'image', 'link'] as Chip[]) next.delete(h);
      next.add(c);
    }
    setChips(next);
  };
  // Chips apply at once when there is already a search.
  // biome-ignore lint/correctness/useExhaustiveDependencies: run only when the chips change
  useEffect(() => {
    if (results !== null) void run();
  }, [chips]);

  const jump = (r: SearchResultItem) => {
    close();
    if (r.message.parentId) void chat.openChannel(r.channel.id).then(() => chat.openThread(r.message.parentId));
    else void chat.openChannel(r.channel.id, r.message.seq);
  };

  return (
    <div className="search-form">
      <form
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          setSuggest(null);
          void run();
        }}
      >
        <input
          type="search"
          aria-label="Search messages"
          placeholder='words "a phrase" from:@ann in:#general has:file before:2026-12-01'
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
      </form>
      {suggest && (suggest.users.length > 0 || suggest.channels.length > 0 || suggest.terms.length > 0) && (
        <fieldset className="chips">
          <legend className="sr-only">Suggestions</legend>
          {suggest.users.map((u) => (
            <button type="button" key={u.id} onClick={() => complete(`from:@${u.username}`)}>
              from:@{u.username}
            </button>
          ))}
          {suggest.channels
            .filter((c) => c.name)
            .map((c) => (
              <button type="button" key={c.id} onClick={() => complete(`in:#${c.name}`)}>
                in:#{c.name}
              </button>
            ))}
          {suggest.terms.map((t) => (
            <button type="button" key={t.term} onClick={() => complete(t.term)}>
              {t.term}
            </button>
          ))}
        </fieldset>
      )}
      <fieldset className="chips">
        <legend className="sr-only">Filters</legend>
        {CHIPS.map(([c, label]) => (
          <button type="button" key={c} aria-pressed={chips.has(c)} onClick={() => toggle(c)} disabled={c === 'here' && !current}>
            {label}
          </button>
        ))}
      </fieldset>
      {err && <p role="alert">{err}</p>}
      {meta && (
        <p role="status">
          {meta.total}
          {meta.totalExact ? '' : '+'} {meta.total === 1 ? 'result' : 'results'}
          {meta.ignored.length > 0 && ` · ignored: ${meta.ignored.join(', ')}`}
        </p>
      )}
      {results && (
        <ul className="results" aria-label="Search results">
          {results.map((r) => (
            <li key={r.message.id}>
              <button type="button" onClick={() => jump(r)} data-testid="search-result">
                <small>
                  {r.author.displayName} · {r.channel.name ? `#${r.channel.name}` : 'direct message'} ·{' '}
                  {new Date(r.message.createdAt).toLocaleString()}
                </small>
                <div>
                  <Highlighted snippet={r.snippet} />
                </div>
              </button>
            </li>
          ))}
        </ul>
      )}
      {meta?.next && (
        <button type="button" onClick={() => void run(meta.next!)}>
          More results
        </button>
      )}
    </div>
  );
}
