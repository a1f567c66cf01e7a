// A message's files: images as inline thumbnails that open a larger view, everything else as a
// download card. All bytes come through authedBlobUrl (bearer token → blob: URL).
// The viewer is a modal dialog rendered into <body> (inside the message list a fixed overlay
// would be confined to its transformed row): its Close button takes focus when it opens, Tab
// stays on it, Escape or a click anywhere closes it, and focus goes back to the thumbnail.
import { useEffect, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import type { FileObject } from '../../../src/protocol/files.js';
import { formatBytes, authedBlobUrl } from '../files.js';
import { useChat } from '../hooks.js';

function useBlob(url: string | undefined): string | null {
  const chat = useChat();
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    if (!url) return;
    let live = true;
    authedBlobUrl(chat.api, url).then(
      (s) => live && setSrc(s),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [url, chat]);
  return src;
}

function Thumb({ f, onOpen }: { f: FileObject; onOpen(opener: HTMLButtonElement): void }) {
  const src = useBlob(f.thumbnailUrl);
  const w = Math.min(360, f.width ?? 360);
  const h = f.width && f.height ? Math.round((w * f.height) / f.width) : 200;
  return (
    <button
      type="button"
      className="thumb"
      onClick={(e) => onOpen(e.currentTarget)}
      aria-label={`Open image ${f.name}`}
      style={{ width: w, height: Math.min(h, 360) }}
    >
      {src ? <img src={src} alt={f.name} data-testid="thumbnail" /> : <span className="thumb-wait">Loading image…</span>}
    </button>
  );
}

function Viewer({ f, close }: { f: FileObject; close(): void }) {
  const src = useBlob(f.url);
  const closeButton = useRef<HTMLButtonElement>(null);
  useEffect(() => closeButton.current?.focus(), []);
  return createPortal(
    <div
      className="overlay"
      role="dialog"
      aria-modal="true"
      aria-label={f.name}
      onMouseDown={(e) => {
        e.preventDefault(); // keeps the focus that close() gives back to the thumbnail
        close();
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          close();
        } else if (e.key === 'Tab') {
          // The Close button is the dialog's only control: focus stays on it.
          e.preventDefault();
          closeButton.current?.focus();
        }
      }}
    >
      <figure className="viewer">
        <button type="button" className="viewer-close" ref={closeButton} aria-label="Close image viewer" onClick={close}>
          ✕
        </button>
        {src ? <img src={src} alt={f.name} /> : <p>Loading…</p>}
        <figcaption>
          {f.name} · {formatBytes(f.size)}
        </figcaption>
      </figure>
    </div>,
    document.body,
  );
}

function Card({ f }: { f: FileObject }) {
  const chat = useChat();
  const download = async () => {
    const href = await authedBlobUrl(chat.api, f.url);
    const a = document.createElement('a');
    a.href = href;
    a.download = f.name;
    a.click();
  };
  return (
    <div className="file-card" data-testid="file-card">
      <span aria-hidden="true">📄</span>
      <span className="file-name">{f.name}</span>
      <small>
        {formatBytes(f.size)} · {f.mime}
      </small>
      <button type="button" className="link" onClick={() => void download()}>
        Download
      </button>
    </div>
  );
}

export function Attachments({ files }: { files: FileObject[] }) {
  const [open, setOpen] = useState<FileObject | null>(null);
  const opener = useRef<HTMLButtonElement | null>(null);
  if (files.length === 0) return null;
  return (
    <div className="attachments">
      {files.map((f) =>
        f.thumbnailUrl ? (
          <Thumb
            key={f.id}
            f={f}
            onOpen={(el) => {
              opener.current = el;
              setOpen(f);
            }}
          />
        ) : (
          <Card key={f.id} f={f} />
        ),
      )}
      {open && (
        <Viewer
          f={open}
          close={() => {
            setOpen(null);
            opener.current?.focus();
          }}
        />
      )}
    </div>
  );
}
