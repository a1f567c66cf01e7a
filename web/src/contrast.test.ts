// Text contrast in both themes, computed from styles.css itself: the theme variables are resolved
// for light (:root / [data-theme="light"]) and dark (those overridden by [data-theme="dark"]), and
// each text/background pair the client draws is looked up by the selectors that set it. Every pair
// must reach WCAG AA for normal text, 4.5:1 (the promise in the styles.css header).
// @ts-expect-error the web program has no Node types (web/tsconfig.json "types": []); vitest runs this under Node
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// A path, not a URL object (under jsdom, URL is jsdom's class, which node:fs refuses); the base is
// a variable so that Vite does not rewrite new URL('…', import.meta.url) into an asset URL.
const here = import.meta.url;
const css: string = readFileSync(decodeURIComponent(new URL('styles.css', here).pathname), 'utf8');

type Theme = 'light' | 'dark';
type Rule = { selectors: string[]; decls: Map<string, string> };

const norm = (s: string) => s.trim().replace(/\s+/g, ' ');

/** Top-level style rules in source order; at-rule blocks (@media) are skipped. */
function parseRules(text: string): Rule[] {
  const src = text.replace(/\/\*[\s\S]*?\*\//g, '');
  const rules: Rule[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{', i);
    if (open < 0) break;
    const prelude = norm(src.slice(i, open));
    let depth = 1;
    let j = open + 1;
    while (depth > 0 && j < src.length) {
      if (src[j] === '{') depth++;
      else if (src[j] === '}') depth--;
      j++;
    }
    if (!prelude.startsWith('@')) {
      const decls = new Map<string, string>();
      for (const d of src.slice(open + 1, j - 1).split(';')) {
        const at = d.indexOf(':');
        if (at > 0) decls.set(d.slice(0, at).trim(), norm(d.slice(at + 1)));
      }
      rules.push({ selectors: prelude.split(',').map(norm), decls });
    }
    i = j;
  }
  return rules;
}

const rules = parseRules(css);

/** The last declaration of `prop` in a rule whose selector list holds exactly `selector`. */
function declared(selector: string, props: string[]): string | undefined {
  let found: string | undefined;
  for (const r of rules) {
    if (!r.selectors.includes(selector)) continue;
    for (const p of props) if (r.decls.has(p)) found = r.decls.get(p);
  }
  return found;
}

function themeVars(theme: Theme): Map<string, string> {
  const vars = new Map<string, string>();
  const blocks = theme === 'light' ? [':root', '[data-theme="light"]'] : [':root', '[data-theme="dark"]'];
  for (const r of rules) {
    if (!r.selectors.some((s) => blocks.includes(s))) continue;
    for (const [k, v] of r.decls) if (k.startsWith('--')) vars.set(k, v);
  }
  return vars;
}
const VARS: Record<Theme, Map<string, string>> = { light: themeVars('light'), dark: themeVars('dark') };

/**
 * A colour as the theme draws it: `sources` are tried in order, each a selector whose `prop`
 * sets it; the theme's own override of a selector ([data-theme="dark"] .x) wins over the plain
 * one; `inherit` (or no declaration) falls through to the next source.
 */
function colour(theme: Theme, prop: 'color' | 'background', sources: string[]): string {
  const props = prop === 'color' ? ['color'] : ['background', 'background-color'];
  for (const sel of sources) {
    const v = declared(`[data-theme="${theme}"] ${sel}`, props) ?? declared(sel, props);
    if (!v || v === 'inherit') continue;
    const resolved = v.replace(/^var\((--[\w-]+)\)$/, (_, name: string) => VARS[theme].get(name) ?? `unset ${name}`);
    if (!/^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(resolved)) throw new Error(`${sel} ${prop}: cannot judge "${v}" (${theme})`);
    return resolved.toLowerCase();
  }
  throw new Error(`no ${prop} for ${sources.join(' → ')} (${theme})`);
}

function luminance(hex: string): number {
  const h = hex.length === 4 ? [...hex.slice(1)].map((c) => c + c).join('') : hex.slice(1);
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = Number.parseInt(h.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** [what, text colour from (first that sets it), background from (first that sets it)]. */
const PAIRS: [string, string[], string[]][] = [
  ['body text', ['body'], ['body']],
  ['button text', ['button', 'body'], ['button']],
  ['button text, hovered', ['button', 'body'], ['button:hover']],
  ['muted text (.topic)', ['.topic'], ['body']],
  ['muted text in the sidebar', ['.sidebar h2'], ['.sidebar']],
  ['message time on a hovered/focused message', ['.msg time'], ['.msg:focus-within']],
  ['message time on the focused (jumped-to) message', ['.msg time'], ['.msg.focused']],
  ['quote text', ['.msg blockquote'], ['body']],
  ['link', ['a'], ['body']],
  ['link button on a hovered message', ['button.link'], ['.msg:hover']],
  ['active channel', ['.chan.active'], ['.chan.active']],
  ['unread badge', ['.badge'], ['.badge']],
  ['badge in the active channel', ['.chan.active .badge'], ['.chan.active .badge']],
  ['mention badge', ['.mention-badge'], ['.mention-badge']],
  ['error text', ['.error'], ['body']],
  ['"New messages" divider', ['.divider span'], ['.divider span']],
  ['day separator', ['.day span'], ['.day span']],
  ['@mention', ['.mention', 'body'], ['.mention']],
  ['search highlight', ['mark', 'body'], ['mark']],
  ['selected suggestion', ['.suggest li.sel'], ['.suggest li.sel']],
  ['pressed filter chip', ['.chips button[aria-pressed="true"]'], ['.chips button[aria-pressed="true"]']],
  ['toast', ['.toast'], ['.toast']],
  ['offline banner', ['.banner'], ['.banner']],
  ['inline code', ['.msg code', 'body'], ['.msg code']],
  ['code block text', ['.msg pre.code', 'body'], ['.msg pre.code']],
  ['code: keyword', ['.hljs-keyword'], ['.msg pre.code']],
  ['code: built-in', ['.hljs-built_in'], ['.msg pre.code']],
  ['code: string', ['.hljs-string'], ['.msg pre.code']],
  ['code: attribute', ['.hljs-attr'], ['.msg pre.code']],
  ['code: number', ['.hljs-number'], ['.msg pre.code']],
  ['code: comment', ['.hljs-comment'], ['.msg pre.code']],
  ['code: title', ['.hljs-title'], ['.msg pre.code']],
  ['code: function', ['.hljs-function'], ['.msg pre.code']],
  ['image viewer caption', ['.viewer figcaption'], ['.viewer figcaption']],
  ['image viewer close button', ['.viewer-close'], ['.viewer-close']],
  ['image viewer close button, hovered', ['.viewer-close'], ['.viewer-close:hover']],
];

describe('text contrast (styles.css)', () => {
  it('reads the theme variables of both themes', () => {
    expect(VARS.light.get('--bg')).toMatch(/^#/);
    expect(VARS.dark.get('--bg')).not.toBe(VARS.light.get('--bg'));
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#777777', '#ffffff')).toBeCloseTo(4.48, 2);
  });

  for (const theme of ['light', 'dark'] as const) {
    it.each(PAIRS)(`${theme}: %s is at least 4.5:1`, (_what, fg, bg) => {
      const text = colour(theme, 'color', fg);
      const back = colour(theme, 'background', bg);
      const ratio = contrast(text, back);
      expect(ratio, `${text} on ${back}: ${ratio.toFixed(2)}:1`).toBeGreaterThanOrEqual(4.5);
    });
  }
});
