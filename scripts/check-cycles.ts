// Import cycles among the project's TypeScript modules, type-only imports included (a type-only
// cycle still means two modules that cannot be understood, or moved, one without the other).
// No dependency: reads every .ts file under the given directories, takes the module specifiers of
// its `import … from '…'`, `import '…'`, `export … from '…'` statements and `import('…')`
// expressions, resolves the relative ones to files (`./x.js` → `./x.ts`, `./dir` → `./dir/index.ts`)
// and finds the strongly connected components of that graph (Tarjan). Every component of more than
// one module (or a module importing itself) is reported as one cycle through it.
// Run: node --import tsx scripts/check-cycles.ts [dir …]   (default: src bench test); exit 1 on a cycle.
// test/unit/cycles.test.ts runs it as part of npm test.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Module specifiers a TypeScript source imports or re-exports (static, side-effect and import() forms). */
export function specifiersOf(source: string): string[] {
  const text = stripComments(source);
  const out: string[] = [];
  // `import x from 'm'`, `import type { a } from 'm'`, `export { a } from 'm'`, `export * from 'm'`:
  // the clause between the keyword and `from` may span lines but holds no string literal or `;`.
  const fromRe = /(?:^|[\n;])\s*(?:import|export)\s+[^'";]*?\bfrom\s*(['"])([^'"\n]+)\1/g;
  const bareRe = /(?:^|[\n;])\s*import\s*(['"])([^'"\n]+)\1/g;
  const dynRe = /\bimport\(\s*(['"])([^'"\n]+)\1\s*\)/g;
  for (const re of [fromRe, bareRe, dynRe]) for (const m of text.matchAll(re)) out.push(m[2]);
  return out;
}

/**
 * Removes comments, keeping string and template literals intact (a `//` in a URL is not a
 * comment) and line breaks (so statement starts stay at line starts).
 */
function stripComments(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    const n = s[i + 1];
    if (c === '/' && n === '/') {
      while (i < s.length && s[i] !== '\n') i++;
    } else if (c === '/' && n === '*') {
      const end = s.indexOf('*/', i + 2);
      const stop = end < 0 ? s.length : end + 2;
      out += s.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < s.length && s[j] !== c) j += s[j] === '\\' ? 2 : 1;
      out += s.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function listTs(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) listTs(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The .ts file a relative specifier names, or undefined (a package, a non-TypeScript file). */
function resolveSpecifier(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((p) => p.endsWith('.ts') && existsSync(p) && statSync(p).isFile());
}

export interface ImportGraph {
  /** Module (path relative to the root) → modules it imports. */
  edges: Map<string, Set<string>>;
}

export function importGraph(dirs: string[], root = ROOT): ImportGraph {
  const edges = new Map<string, Set<string>>();
  for (const file of dirs.flatMap((d) => listTs(resolve(root, d)))) {
    const deps = new Set<string>();
    for (const spec of specifiersOf(readFileSync(file, 'utf8'))) {
      const target = resolveSpecifier(file, spec);
      if (target) deps.add(relative(root, target));
    }
    edges.set(relative(root, file), deps);
  }
  return { edges };
}

/** One cycle per strongly connected component with a cycle: module paths, the first repeated at the end. */
export function findCycles(g: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  // Iterative Tarjan: the graph is small, but recursion depth should not depend on it.
  for (const start of [...g.edges.keys()].sort()) {
    if (index.has(start)) continue;
    const work: { v: string; it: Iterator<string> }[] = [];
    const visit = (v: string) => {
      index.set(v, counter);
      low.set(v, counter++);
      stack.push(v);
      onStack.add(v);
      work.push({ v, it: [...(g.edges.get(v) ?? [])].sort()[Symbol.iterator]() });
    };
    visit(start);
    while (work.length) {
      const top = work[work.length - 1];
      const next = top.it.next();
      if (!next.done) {
        const w = next.value;
        if (!index.has(w)) visit(w);
        else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].v;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!));
      }
      if (low.get(top.v) === index.get(top.v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== top.v);
        components.push(comp);
      }
    }
  }
  const cycles: string[][] = [];
  for (const comp of components) {
    const members = new Set(comp);
    const first = [...comp].sort()[0];
    if (comp.length === 1 && !g.edges.get(first)?.has(first)) continue;
    cycles.push(shortestCycle(g, first, members));
  }
  return cycles.sort((a, b) => a[0].localeCompare(b[0]));
}

/** A shortest path from `v` back to itself inside its component (breadth-first). */
function shortestCycle(g: ImportGraph, v: string, members: Set<string>): string[] {
  const prev = new Map<string, string>();
  const queue = [v];
  for (let i = 0; i < queue.length; i++) {
    const u = queue[i];
    for (const w of [...(g.edges.get(u) ?? [])].sort()) {
      if (!members.has(w)) continue;
      if (w === v) {
        const path = [u];
        while (path[0] !== v) path.unshift(prev.get(path[0])!);
        return [...path, v];
      }
      if (!prev.has(w)) {
        prev.set(w, u);
        queue.push(w);
      }
    }
  }
  return [v, v];
}

export const DEFAULT_DIRS = ['src', 'bench', 'test'];

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dirs = process.argv.length > 2 ? process.argv.slice(2) : DEFAULT_DIRS;
  const g = importGraph(dirs);
  const cycles = findCycles(g);
  for (const c of cycles) console.log(`import cycle: ${c.join(' → ')}`);
  console.log(
    `${g.edges.size} modules under ${dirs.join(', ')}: ${cycles.length ? `${cycles.length} import cycle(s)` : 'no import cycle'}`,
  );
  process.exit(cycles.length ? 1 : 0);
}
