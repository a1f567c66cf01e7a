// The dialog focus trap (focus-trap.ts): Tab wraps from last to first and Shift+Tab from first to
// last; focus outside the dialog is brought back; disabled and hidden controls are skipped.
import { describe, expect, it } from 'vitest';
import { focusables, trapTarget } from './focus-trap.js';

function dialog(): HTMLElement {
  const root = document.createElement('div');
  root.innerHTML = `
    <button id="close">x</button>
    <input id="name" />
    <button id="off" disabled>off</button>
    <div hidden><button id="hidden">h</button></div>
    <a id="link" href="#x">link</a>`;
  document.body.append(root);
  return root;
}

describe('dialog focus trap', () => {
  it('lists only what Tab can reach, in order', () => {
    const root = dialog();
    expect(focusables(root).map((e) => e.id)).toEqual(['close', 'name', 'link']);
    root.remove();
  });

  it('wraps at both ends and lets the browser move in between', () => {
    const root = dialog();
    const byId = (id: string) => root.querySelector(`#${id}`);
    expect(trapTarget(root, byId('link'), false)?.id).toBe('close');
    expect(trapTarget(root, byId('close'), true)?.id).toBe('link');
    expect(trapTarget(root, byId('name'), false)).toBeNull();
    expect(trapTarget(root, byId('name'), true)).toBeNull();
    root.remove();
  });

  it('brings focus that is outside the dialog back into it', () => {
    const root = dialog();
    const outside = document.createElement('button');
    document.body.append(outside);
    expect(trapTarget(root, outside, false)?.id).toBe('close');
    expect(trapTarget(root, outside, true)?.id).toBe('link');
    outside.remove();
    root.remove();
  });
});
