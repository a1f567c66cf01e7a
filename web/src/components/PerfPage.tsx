// Admin performance page: the load-test runs in the server's reports folder
// (GET /api/admin/reports, src/server/http/reports.ts). Opening a run shows its Markdown reports
// through the same safe renderer as messages in its document mode, with each chart once as an image
// from a blob: URL (an SVG inside <img> cannot run script): in place where the report names it
// (`![alt](charts/x.svg)`), else after the reports; other files download. Nothing is opened as a
// document.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ApiError } from '../api.js';
import { authedBlobUrl, formatBytes } from '../files.js';
import { useChat } from '../hooks.js';
import { chartRefs, renderMarkdown } from '../markdown.js';

export interface ReportEntry {
  run: string;
  files: { name: string; size: number; url: string }[];
  modifiedAt: string;
}

export default function PerfPage() {
  const chat = useChat();
  const [reports, setReports] = useState<ReportEntry[] | null>(null);
  const [open, setOpen] = useState<ReportEntry | null>(null);
  const [err, setErr] = useState('');
  useEffect(() => {
    chat.api.get<{ reports: ReportEntry[] }>('/api/admin/reports').then(
      (r) => setReports(r.reports),
      (e: ApiError) => setErr(e.status === 403 ? 'Workspace owners and admins only.' : e.message),
    );
  }, [chat]);
  if (err) return <p role="alert">{err}</p>;
  if (!reports) return <p>Loading…</p>;
  if (open) return <Run entry={open} back={() => setOpen(null)} />;
  if (reports.length === 0) return <p>No load-test runs yet. Run `nchat loadtest` on the server.</p>;
  return (
    <ul className="list reports">
      {reports.map((r) => (
        <li key={r.run}>
          <span>
            <strong>{r.run}</strong> <small>{new Date(r.modifiedAt).toLocaleString()}</small>
          </span>
          <button type="button" onClick={() => setOpen(r)}>
            Open
          </button>
        </li>
      ))}
    </ul>
  );
}

const isChart = (name: string) => /^charts\/.+\.(png|svg)$/.test(name);
const stem = (name: string) => name.replace(/\.(png|svg)$/, '');

function Run({ entry, back }: { entry: ReportEntry; back(): void }) {
  const chat = useChat();
  // Markdown text per report file; null when it could not be loaded.
  const [texts, setTexts] = useState<Record<string, string | null>>({});
  // blob: URL per chart file; null when it could not be loaded.
  const [images, setImages] = useState<Record<string, string | null>>({});
  const requested = useRef(new Set<string>());
  const mdFiles = entry.files.filter((f) => f.name.endsWith('.md'));
  const textsDone = mdFiles.every((f) => f.name in texts);
  useEffect(() => {
    for (const f of entry.files)
      if (f.name.endsWith('.md'))
        void chat.api.request<unknown>('GET', f.url).then(
          (t) => setTexts((x) => ({ ...x, [f.name]: typeof t === 'string' ? t : JSON.stringify(t) })),
          () => setTexts((x) => ({ ...x, [f.name]: null })),
        );
  }, [entry, chat]);
  // Each chart once: the ones a report shows inline (`![alt](charts/x.svg)`, the exact file it
  // names), then, once every report is loaded, the others of the run, one format per chart (SVG
  // over PNG, as both show the same figure).
  const { inline, extra } = useMemo(() => {
    const names = new Set(entry.files.map((f) => f.name));
    const inline = new Set(
      Object.values(texts)
        .flatMap((t) => (t ? chartRefs(t) : []))
        .filter((n) => names.has(n)),
    );
    const shown = new Set([...inline].map(stem));
    const extra: string[] = [];
    for (const f of entry.files) {
      if (!isChart(f.name) || shown.has(stem(f.name))) continue;
      if (f.name.endsWith('.png') && names.has(`${stem(f.name)}.svg`)) continue;
      extra.push(f.name);
    }
    return { inline, extra: textsDone ? extra : [] };
  }, [entry, texts, textsDone]);
  useEffect(() => {
    for (const f of entry.files) {
      if (!(inline.has(f.name) || extra.includes(f.name)) || requested.current.has(f.name)) continue;
      requested.current.add(f.name);
      void authedBlobUrl(chat.api, f.url).then(
        (u) => setImages((x) => ({ ...x, [f.name]: u })),
        () => setImages((x) => ({ ...x, [f.name]: null })),
      );
    }
  }, [entry, chat, inline, extra]);
  const chartSrc = (path: string) => (inline.has(path) ? (images[path] === undefined ? '' : images[path]) : null);
  const download = async (url: string, name: string) => {
    const a = document.createElement('a');
    a.href = await authedBlobUrl(chat.api, url);
    a.download = name.replace(/^.*\//, '');
    a.click();
  };
  return (
    <div className="report">
      <button type="button" className="link" onClick={back}>
        ← All runs
      </button>
      <h3>{entry.run}</h3>
      {mdFiles.map((f) => {
        const t = texts[f.name];
        return (
          <section key={f.name} className="msg report-md">
            <div className="text">
              {t === undefined ? 'Loading…' : t === null ? `Could not load ${f.name}.` : renderMarkdown(t, { rich: true, chartSrc })}
            </div>
          </section>
        );
      })}
      {extra.map((name) =>
        images[name] ? (
          <figure key={name}>
            <img src={images[name]} alt={name} style={{ maxWidth: '100%' }} />
            <figcaption>{name}</figcaption>
          </figure>
        ) : null,
      )}
      <ul className="list">
        {entry.files
          .filter((f) => !f.name.endsWith('.md'))
          .map((f) => (
            <li key={f.name}>
              <span>
                {f.name} <small>{formatBytes(f.size)}</small>
              </span>
              <button type="button" className="link" onClick={() => void download(f.url, f.name)}>
                Download
              </button>
            </li>
          ))}
      </ul>
    </div>
  );
}
