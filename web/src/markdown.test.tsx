import { describe, expect, it } from 'vitest';
import { chartPath, chartRefs, renderMarkdown, safeHref } from './markdown.js';
import { mount } from './test-utils.js';

async function html(text: string, isMention?: (u: string) => boolean) {
  const m = await mount(<div>{renderMarkdown(text, { isMention })}</div>);
  const el = m.container.firstElementChild as HTMLElement;
  return { el, done: m.unmount };
}

describe('renderMarkdown', () => {
  it('renders bold, italic, strike, inline code, quotes and line breaks', async () => {
    const { el, done } = await html('**bold** *it* _it2_ ~~gone~~ `a<b>`\n> quoted **q**\nafter');
    expect(el.querySelector('strong')?.textContent).toBe('bold');
    expect([...el.querySelectorAll('em')].map((e) => e.textContent)).toEqual(['it', 'it2']);
    expect(el.querySelector('s')?.textContent).toBe('gone');
    expect(el.querySelector('code')?.textContent).toBe('a<b>');
    expect(el.querySelector('blockquote strong')?.textContent).toBe('q');
    expect(el.querySelectorAll('p').length).toBe(2);
    done();
  });

  it('does not treat snake_case or 2*3*4 as emphasis', async () => {
    const { el, done } = await html('snake_case_name and 2*3*4');
    expect(el.querySelector('em')).toBeNull();
    expect(el.textContent).toBe('snake_case_name and 2*3*4');
    done();
  });

  it('highlights fenced code with spans, never HTML from the text', async () => {
    const { el, done } = await html('```js\nconst x = "<img src=x onerror=alert(1)>";\n```');
    const code = el.querySelector('pre code')!;
    expect(code.className).toContain('language-javascript');
    expect(code.querySelector('.hljs-keyword')?.textContent).toBe('const');
    expect(code.querySelector('img')).toBeNull();
    expect(code.textContent).toBe('const x = "<img src=x onerror=alert(1)>";');
    done();
  });

  it('links only http(s) and mailto, with rel="noopener noreferrer"', async () => {
    const { el, done } = await html(
      '[ok](https://example.com/a) [bad](javascript:alert(1)) https://x.test/p. mailto:a@b.test [d](data:text/html,hi)',
    );
    const links = [...el.querySelectorAll('a')];
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['https://example.com/a', 'https://x.test/p', 'mailto:a@b.test']);
    for (const a of links) expect(a.getAttribute('rel')).toBe('noopener noreferrer');
    expect(el.textContent).toContain('[bad](javascript:alert(1))');
    done();
  });

  it('keeps the classic XSS payloads as text', async () => {
    const payloads = [
      '<script>window.__xss=1</script>',
      '<img src=x onerror="window.__xss=1">',
      '<svg onload="window.__xss=1">',
      '"><script>window.__xss=1</script>',
      '[x](javascript:window.__xss=1)',
      '[x](JaVaScRiPt:window.__xss=1)',
      '<a href="javascript:window.__xss=1">x</a>',
      '<iframe src="javascript:window.__xss=1"></iframe>',
    ];
    for (const p of payloads) {
      const { el, done } = await html(p);
      expect(el.querySelector('script, img, svg, iframe')).toBeNull();
      for (const a of el.querySelectorAll('a')) expect(a.getAttribute('href')).toMatch(/^(https?|mailto):/);
      expect(el.textContent).toBe(p);
      done();
    }
    expect((window as { __xss?: number }).__xss).toBeUndefined();
  });

  it('marks @mentions of known users, @channel and @here', async () => {
    const { el, done } = await html('hi @ann and @nobody, @here', (u) => u === 'ann');
    expect([...el.querySelectorAll('.mention')].map((e) => e.textContent)).toEqual(['@ann', '@here']);
    done();
  });
});

describe('renderMarkdown rich (reports)', () => {
  it('renders headings and pipe tables only when asked', async () => {
    const doc = '# Report\n| metric | value |\n|---|---:|\n| p95 | **98** ms |\n| rate | <b>1</b> |';
    const rich = await mount(<div>{renderMarkdown(doc, { rich: true })}</div>);
    expect(rich.container.querySelector('h3')?.textContent).toBe('Report');
    expect([...rich.container.querySelectorAll('th')].map((e) => e.textContent)).toEqual(['metric', 'value']);
    expect(rich.container.querySelector('td strong')?.textContent).toBe('98');
    expect(rich.container.querySelector('b')).toBeNull();
    rich.unmount();
    const plain = await mount(<div>{renderMarkdown(doc)}</div>);
    expect(plain.container.querySelector('h3, table')).toBeNull();
    plain.unmount();
  });

  it("shows a chart line of the run's own charts/ as an image with its alt text, in place", async () => {
    const asked: string[] = [];
    const chartSrc = (path: string) => {
      asked.push(path);
      return path === 'charts/loading.svg' ? '' : path === 'charts/gone.png' ? null : `blob:test/${path}`;
    };
    const doc =
      'before\n![Message throughput over time](charts/messages-throughput.svg)\nafter\n![Pending](charts/loading.svg)\n![Gone](charts/gone.png)';
    const m = await mount(<div>{renderMarkdown(doc, { rich: true, chartSrc })}</div>);
    const imgs = [...m.container.querySelectorAll('img')];
    expect(imgs.map((i) => [i.getAttribute('src'), i.getAttribute('alt')])).toEqual([
      ['blob:test/charts/messages-throughput.svg', 'Message throughput over time'],
    ]);
    const texts = [...m.container.children[0].children].map((e) => e.textContent);
    expect(texts).toEqual(['before', '', 'after', 'Pending', '![Gone](charts/gone.png)']);
    expect(m.container.querySelector('[aria-busy="true"]')?.textContent).toBe('Pending');
    expect(asked).toEqual(['charts/messages-throughput.svg', 'charts/loading.svg', 'charts/gone.png']);
    m.unmount();
  });

  it('keeps any other image target as text and never asks for it', async () => {
    const bad = [
      '![x](https://evil/x.png)',
      '![x](../x.png)',
      '![x](charts/../x.png)',
      '![x](charts/sub/x.png)',
      '![x](/charts/x.png)',
      '![x](charts/x.html)',
      '![x](javascript:alert(1))',
      '![x](data:image/svg+xml,<svg/>)',
      '![x](//evil/charts/x.png)',
    ];
    const asked: string[] = [];
    const chartSrc = (path: string) => {
      asked.push(path);
      return `blob:${path}`;
    };
    for (const line of bad) {
      const m = await mount(<div>{renderMarkdown(line, { rich: true, chartSrc })}</div>);
      expect(m.container.querySelector('img, a')).toBeNull();
      expect(m.container.textContent).toBe(line);
      m.unmount();
    }
    expect(asked).toEqual([]);
  });

  it('message mode (no rich) never renders an image or a relative link, even with chartSrc', async () => {
    const doc = '![chart](charts/a.svg)\n[a](charts/a.svg) ![x](https://evil/x.png)';
    const m = await mount(<div>{renderMarkdown(doc, { chartSrc: () => 'blob:x' })}</div>);
    expect(m.container.querySelector('img, figure')).toBeNull();
    expect([...m.container.querySelectorAll('a')].map((a) => a.getAttribute('href'))).toEqual(['https://evil/x.png']);
    expect(m.container.textContent).toBe('![chart](charts/a.svg)[a](charts/a.svg) !x');
    m.unmount();
  });
});

describe('chartRefs / chartPath', () => {
  it("lists the run's charts a report shows inline, skipping code blocks and other targets", () => {
    const doc = '![a](charts/a.svg)\n```\n![b](charts/b.svg)\n```\n![c](../c.png)\ntext ![d](charts/d.png)\n![e](charts/e.png)';
    expect(chartRefs(doc)).toEqual(['charts/a.svg', 'charts/e.png']);
    expect(chartPath('charts/x.svg')).toBe('charts/x.svg');
    for (const bad of ['charts/..svg', 'charts/.x.svg', 'x.svg', 'charts/x.svgz', 'https://a/charts/x.svg'])
      expect(chartPath(bad)).toBeNull();
  });
});

describe('safeHref', () => {
  it('accepts http, https, mailto; refuses everything else', () => {
    expect(safeHref('https://a.test/x?y=1')).toBe('https://a.test/x?y=1');
    expect(safeHref('mailto:a@b.test')).toBe('mailto:a@b.test');
    for (const bad of ['javascript:alert(1)', ' javascript:alert(1)', 'data:text/html,x', 'vbscript:x', '/relative', 'ftp://x.test', ''])
      expect(safeHref(bad)).toBeNull();
  });
});
