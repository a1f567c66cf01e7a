// Safe Markdown: message text → React elements, never HTML. Supported: **bold**, *italic* /
// _italic_, ~~strike~~, `inline code`, ``` fenced code blocks ``` (highlighted), [text](url) and
// bare URLs (http, https and mailto only; anything else stays plain text), > quotes, @mentions.
// Documents (load-test reports, `rich`) also get # headings, pipe tables and chart lines
// `![alt](charts/name.svg)`; messages never render an image or a relative link.
// Everything a user typed ends up as React text nodes, which React escapes; the one HTML string
// involved (highlight.js output, which escapes its input) is parsed back into elements by
// hljsToReact, which only knows <span class> and the five entities.
import { Fragment, type ReactNode } from 'react';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';

hljs.registerLanguage('bash', bash);
hljs.registerLanguage('javascript', javascript);
hljs.registerLanguage('json', json);
hljs.registerLanguage('python', python);
hljs.registerLanguage('sql', sql);
hljs.registerLanguage('typescript', typescript);
const ALIASES: Record<string, string> = { js: 'javascript', ts: 'typescript', sh: 'bash', shell: 'bash', py: 'python' };

/** The URL if it is http(s) or mailto, else null (javascript:, data:, relative, malformed). */
export function safeHref(raw: string): string | null {
  try {
    const u = new URL(raw);
    return u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'mailto:' ? u.href : null;
  } catch {
    return null;
  }
}

export interface MarkdownOptions {
  /** Usernames that resolve to people (highlighted as mentions); others stay text. */
  isMention?: (username: string) => boolean;
  /** Documents (load-test reports): also # headings and | pipe | tables |. Messages leave it off. */
  rich?: boolean;
  /**
   * With `rich` only (ignored otherwise): a line that is just `![alt](charts/<file>.svg|.png)` asks
   * for the chart's image URL (a blob: URL). A string shows the image, '' a placeholder while it
   * loads, null (no such file in the run, or it failed) keeps the line as text. Only targets that
   * pass chartPath are ever asked; any other image line stays text.
   */
  chartSrc?: (path: string) => string | null;
}

const FENCE = /^```\s*([\w+-]{0,20})\s*$/;
const FENCE_END = /^```\s*$/;
/** A line that is only an image: `![alt](target)`. */
const IMAGE_LINE = /^!\[([^\]\n]{0,500})\]\(([^()\s]{1,500})\)\s*$/;
const CHART_PATH = /^charts\/[A-Za-z0-9_][A-Za-z0-9._-]{0,199}\.(?:svg|png)$/;

/**
 * The target when it is a chart file of the document's own run (`charts/<plain name>.svg|.png`),
 * else null: absolute URLs, other folders, `..` and anything with more path stay text.
 */
export function chartPath(target: string): string | null {
  return CHART_PATH.test(target) && !target.includes('..') ? target : null;
}

/** The chart paths a document shows inline (its image lines outside code fences), in order. */
export function chartRefs(text: string): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const end = FENCE.test(lines[i]) ? lines.findIndex((l, j) => j > i && FENCE_END.test(l)) : -1;
    if (end > i) {
      i = end; // a closed code block, as renderMarkdown skips it
      continue;
    }
    const m = IMAGE_LINE.exec(lines[i]);
    const path = m && chartPath(m[2]);
    if (path) out.push(path);
  }
  return out;
}

const TABLE_RULE = /^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;
const cells = (line: string) =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((c) => c.trim());

export function renderMarkdown(text: string, opts: MarkdownOptions = {}): ReactNode[] {
  const out: ReactNode[] = [];
  const lines = text.split('\n');
  let para: string[] = [];
  let key = 0;
  const flushPara = () => {
    if (para.length) out.push(<p key={key++}>{inlineLines(para, opts)}</p>);
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = FENCE.exec(line);
    if (fence) {
      const end = lines.findIndex((l, j) => j > i && FENCE_END.test(l));
      if (end > i) {
        flushPara();
        out.push(<CodeBlock key={key++} lang={fence[1]} code={lines.slice(i + 1, end).join('\n')} />);
        i = end;
        continue;
      }
    }
    if (opts.rich) {
      const img = IMAGE_LINE.exec(line);
      if (img) {
        flushPara();
        const path = chartPath(img[2]);
        const src = path && opts.chartSrc ? opts.chartSrc(path) : null;
        if (src === null) out.push(<p key={key++}>{line}</p>);
        else out.push(<Chart key={key++} alt={img[1]} src={src} />);
        continue;
      }
      const h = /^(#{1,4})\s+(.*)$/.exec(line);
      if (h) {
        flushPara();
        const Tag = `h${Math.min(6, h[1].length + 2)}` as 'h3';
        out.push(<Tag key={key++}>{inline(h[2], opts)}</Tag>);
        continue;
      }
      if (line.trim().startsWith('|') && TABLE_RULE.test(lines[i + 1] ?? '')) {
        flushPara();
        const head = cells(line);
        const body: string[][] = [];
        i += 2;
        while (i < lines.length && lines[i].trim().startsWith('|')) body.push(cells(lines[i++]));
        i--;
        out.push(
          <table key={key++}>
            <thead>
              <tr>
                {head.map((c, j) => (
                  <th key={j}>{inline(c, opts)}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {body.map((r, j) => (
                <tr key={j}>
                  {r.map((c, k) => (
                    <td key={k}>{inline(c, opts)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>,
        );
        continue;
      }
    }
    if (/^>\s?/.test(line)) {
      flushPara();
      const quoted: string[] = [];
      while (i < lines.length && /^>\s?/.test(lines[i])) quoted.push(lines[i++].replace(/^>\s?/, ''));
      i--;
      out.push(<blockquote key={key++}>{inlineLines(quoted, opts)}</blockquote>);
      continue;
    }
    para.push(line);
  }
  flushPara();
  return out;
}

function inlineLines(lines: string[], opts: MarkdownOptions): ReactNode[] {
  const out: ReactNode[] = [];
  lines.forEach((l, i) => {
    if (i > 0) out.push(<br key={`br${i}`} />);
    out.push(<Fragment key={`l${i}`}>{inline(l, opts)}</Fragment>);
  });
  return out;
}

// One pass per text run; the first alternative that matches at the earliest position wins.
const INLINE = new RegExp(
  [
    /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/u.source, // 1,2 code span
    /\[([^\]\n]{1,500})\]\(([^()\s]{1,2000})\)/u.source, // 3,4 link
    /\*\*(?!\s)([\s\S]+?)\*\*/u.source, // 5 bold
    /~~(?!\s)([\s\S]+?)~~/u.source, // 6 strike
    /(?<![\p{L}\p{N}*])\*(?![\s*])([^*\n]+?)\*(?![\p{L}\p{N}*])/u.source, // 7 italic *
    /(?<![\p{L}\p{N}_])_(?![\s_])([^_\n]+?)_(?![\p{L}\p{N}_])/u.source, // 8 italic _
    /((?:https?:\/\/|mailto:)[^\s<>"]*[^\s<>".,:;'")\]!?])/u.source, // 9 bare URL
    /(?<![\p{L}\p{N}@._-])@([a-z0-9][a-z0-9._-]{0,31})/u.source, // 10 mention
  ].join('|'),
  'giu',
);

export function inline(text: string, opts: MarkdownOptions, depth = 0): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  let k = 0;
  const re = new RegExp(INLINE.source, INLINE.flags);
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    last = m.index + m[0].length;
    const key = `${depth}.${k++}`;
    const nest = (s: string) => (depth < 4 ? inline(s, opts, depth + 1) : [s]);
    if (m[2] !== undefined) out.push(<code key={key}>{m[2]}</code>);
    else if (m[3] !== undefined) {
      const href = safeHref(m[4]);
      out.push(
        href ? (
          <a key={key} href={href} target="_blank" rel="noopener noreferrer">
            {nest(m[3])}
          </a>
        ) : (
          m[0]
        ),
      );
    } else if (m[5] !== undefined) out.push(<strong key={key}>{nest(m[5])}</strong>);
    else if (m[6] !== undefined) out.push(<s key={key}>{nest(m[6])}</s>);
    else if (m[7] !== undefined || m[8] !== undefined) out.push(<em key={key}>{nest((m[7] ?? m[8]) as string)}</em>);
    else if (m[9] !== undefined) {
      const href = safeHref(m[9]);
      out.push(
        href ? (
          <a key={key} href={href} target="_blank" rel="noopener noreferrer">
            {m[9]}
          </a>
        ) : (
          m[0]
        ),
      );
    } else if (m[10] !== undefined) {
      const name = m[10].toLowerCase();
      const special = name === 'channel' || name === 'here';
      out.push(
        special || opts.isMention?.(name) ? (
          <span key={key} className="mention">
            @{m[10]}
          </span>
        ) : (
          m[0]
        ),
      );
    }
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** A report chart in place: the image once loaded, its alt text as a placeholder before. */
function Chart({ alt, src }: { alt: string; src: string }) {
  return (
    <figure className="chart">
      {src ? <img src={src} alt={alt} style={{ maxWidth: '100%' }} /> : <figcaption aria-busy="true">{alt}</figcaption>}
    </figure>
  );
}

function CodeBlock({ lang, code }: { lang: string; code: string }) {
  const language = ALIASES[lang] ?? lang;
  let body: ReactNode[] = [code];
  if (language && hljs.getLanguage(language) && code.length <= 20_000) {
    body = hljsToReact(hljs.highlight(code, { language, ignoreIllegals: true }).value);
  }
  return (
    <pre className="code">
      <code className={language ? `hljs language-${language}` : 'hljs'}>{body}</code>
    </pre>
  );
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#x27;': "'", '&#39;': "'" };

/**
 * highlight.js HTML → React elements. Its output is escaped text plus `<span class="hljs-…">` and
 * `</span>`; anything else (which it never emits) is kept as literal text, not markup.
 */
export function hljsToReact(html: string): ReactNode[] {
  const root: ReactNode[] = [];
  const stack: { cls: string; children: ReactNode[] }[] = [];
  const top = () => (stack.length ? stack[stack.length - 1].children : root);
  const re = /<span class="([\w -]{1,100})">|<\/span>|&(?:amp|lt|gt|quot|#x27|#39);|[^<&]+|[<&]/g;
  let k = 0;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    const t = m[0];
    if (m[1] !== undefined) stack.push({ cls: m[1], children: [] });
    else if (t === '</span>') {
      const s = stack.pop();
      if (s)
        top().push(
          <span key={k++} className={s.cls}>
            {s.children}
          </span>,
        );
    } else top().push(ENTITIES[t] ?? t);
  }
  while (stack.length) {
    const s = stack.pop()!;
    top().push(...s.children);
  }
  return root;
}
