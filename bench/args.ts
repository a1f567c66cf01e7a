// The `--key value` / `--flag` argument reading shared by the load-test benches (search, upload).
// A key given several times keeps every value in order (`--set a=1 --set b=2`); a flag with no
// value reads as 'true'.
export interface BenchArgs {
  /** Every value given for the key, in order (empty when absent). */
  all(key: string): string[];
  /** The last value given for the key, or `dflt`. */
  one(key: string, dflt: string): string;
}

export function benchArgs(argv: string[] = process.argv.slice(2)): BenchArgs {
  const args = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const next = argv[i + 1];
    let v = 'true';
    if (next !== undefined && !next.startsWith('--')) {
      v = next;
      i++;
    }
    args.set(a.slice(2), [...(args.get(a.slice(2)) ?? []), v]);
  }
  return { all: (k) => args.get(k) ?? [], one: (k, d) => args.get(k)?.at(-1) ?? d };
}
