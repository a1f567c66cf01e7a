// report.html: the markdown report converted to HTML (the subset report.md uses: headings,
// paragraphs, lists, tables, bold, inline code, rules, images) with every chart's SVG inlined,
// one <style> block and no external URL, so it opens from disk and prints as it shows.
const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Status marks as text symbols every font has (DejaVu: ✔ ✘ ⚠), coloured; emoji fonts are often missing on servers and in print. */
const MARKS: [RegExp, string][] = [
  [/✅/g, '<span class="ok">✔</span>'],
  [/❌/g, '<span class="bad">✘</span>'],
  [/⚠️/g, '<span class="warn">⚠</span>'],
];

function inline(s: string): string {
  let out = escapeHtml(s);
  for (const [re, html] of MARKS) out = out.replace(re, html);
  out = out.replace(/`([^`]+)`/g, '<code>$1</code>');
  out = out.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
  out = out.replace(/(^|[\s(])_([^_]+)_(?=$|[\s).,;:])/g, '$1<em>$2</em>');
  return out;
}

function splitRow(line: string): string[] {
  const cells: string[] = [];
  let cur = '';
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\' && body[i + 1] === '|') {
      cur += '|';
      i++;
    } else if (body[i] === '|') {
      cells.push(cur.trim());
      cur = '';
    } else cur += body[i];
  }
  cells.push(cur.trim());
  return cells;
}

const STYLE = `body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f2f2f2}code{background:#f5f5f5;padding:0 .2em;font-size:.9em}h1,h2{border-bottom:1px solid #ddd}
figure{margin:1em 0;page-break-inside:avoid}figure svg{max-width:100%;height:auto}figcaption{font-size:.85em;color:#555}
hr{border:0;border-top:1px solid #ddd}.ok{color:#1a7f37;font-weight:bold}.bad{color:#cf222e;font-weight:bold}.warn{color:#9a6700;font-weight:bold}
@media print{body{max-width:none;margin:0}h2{page-break-before:auto}table,figure{page-break-inside:avoid}a{color:inherit}}`;

/** Converts report.md to a self-contained page; `svgOf(path)` gives the SVG text for an image path (charts/x.svg). */
export function toHtml(md: string, title: string, svgOf: (src: string) => string | null): string {
  const out: string[] = [];
  const lines = md.split('\n');
  let i = 0;
  let list: 'ul' | 'ol' | null = null;
  const closeList = () => {
    if (list) out.push(`</${list}>`);
    list = null;
  };
  while (i < lines.length) {
    const l = lines[i];
    const img = /^!\[([^\]]*)\]\(([^)]+)\)$/.exec(l.trim());
    if (img) {
      closeList();
      const svg = svgOf(img[2]);
      out.push(
        svg
          ? `<figure>${svg.replace(/^<\?xml[^>]*>/, '')}<figcaption>${escapeHtml(img[1])}</figcaption></figure>`
          : `<p><em>chart missing: ${escapeHtml(img[1])}</em></p>`,
      );
      i++;
      continue;
    }
    if (l.startsWith('|') && lines[i + 1]?.startsWith('| ---')) {
      closeList();
      const head = splitRow(l);
      out.push('<table><thead><tr>', ...head.map((h) => `<th>${inline(h)}</th>`), '</tr></thead><tbody>');
      i += 2;
      while (i < lines.length && lines[i].startsWith('|')) {
        out.push('<tr>', ...splitRow(lines[i]).map((c) => `<td>${inline(c)}</td>`), '</tr>');
        i++;
      }
      out.push('</tbody></table>');
      continue;
    }
    const h = /^(#{1,6}) (.*)$/.exec(l);
    if (h) {
      closeList();
      const id = h[2].toLowerCase().replace(/[^a-z0-9]+/g, '-');
      out.push(`<h${h[1].length} id="${id}">${inline(h[2])}</h${h[1].length}>`);
    } else if (l.trim() === '---') {
      closeList();
      out.push('<hr>');
    } else if (/^\s*- /.test(l) || /^\d+\. /.test(l)) {
      const kind = /^\d+\. /.test(l) ? 'ol' : 'ul';
      const nested = /^\s{2,}- /.test(l);
      if (!nested && list !== kind) {
        closeList();
        out.push(`<${kind}>`);
        list = kind;
      }
      const text = l.replace(/^\s*(- |\d+\. )/, '');
      out.push(nested ? `<li style="list-style:circle;margin-left:1.5em">${inline(text)}</li>` : `<li>${inline(text)}</li>`);
    } else if (!l.trim()) {
      closeList();
    } else {
      closeList();
      // Consecutive text lines form one paragraph; a line ending in two spaces is a line break.
      const para: string[] = [l];
      while (i + 1 < lines.length && lines[i + 1].trim() && !/^(#|\||- |\d+\. |!\[|---)/.test(lines[i + 1].trim())) para.push(lines[++i]);
      out.push(`<p>${para.map((p) => inline(p.replace(/ {2}$/, ''))).join('<br>')}</p>`);
    }
    i++;
  }
  closeList();
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>\n${out.join('\n')}\n</body></html>\n`;
}
