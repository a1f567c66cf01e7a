// Keeps Tab inside a modal dialog (WAI-ARIA dialog pattern): Tab from the last focusable element
// goes to the first, Shift+Tab from the first to the last; focus that escaped the dialog (a click
// on the page behind the overlay cannot happen, but a programmatic focus can) comes back to it.

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** The elements Tab can reach inside `root`, in document order (hidden ones left out). */
export function focusables(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
    (el) => !el.closest('[hidden]') && el.getAttribute('aria-hidden') !== 'true',
  );
}

/**
 * On a Tab keydown inside `root`: the element to focus instead of the browser's next one, or null
 * to let the browser move (focus stays inside without help).
 */
export function trapTarget(root: HTMLElement, active: Element | null, shift: boolean): HTMLElement | null {
  const list = focusables(root);
  if (list.length === 0) return root;
  const first = list[0]!;
  const last = list[list.length - 1]!;
  if (!active || !root.contains(active)) return shift ? last : first;
  if (!shift && active === last) return first;
  if (shift && (active === first || active === root)) return last;
  return null;
}
