// Progress on stderr: a redrawn bar with rate and ETA on a terminal, a plain line every ~10%
// otherwise (CI logs, files). Never on stdout, which carries the command's result.

export interface Progress {
  update(done: number): void;
  done(message: string): void;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const clock = (s: number) => {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  const r = Math.floor(s % 60);
  return m >= 60
    ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:${String(r).padStart(2, '0')}`
    : `${m}:${String(r).padStart(2, '0')}`;
};

export function progressBar(
  total: number,
  label: string,
  out: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean } = process.stderr,
  quiet = false,
): Progress {
  const start = performance.now();
  const tty = Boolean((out as NodeJS.WriteStream).isTTY);
  let lastDraw = 0;
  let lastDecile = -1;
  const line = (done: number) => {
    const secs = (performance.now() - start) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const eta = rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY;
    const pct = total ? done / total : 1;
    const width = 30;
    const fill = Math.round(pct * width);
    return `${label} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${(pct * 100).toFixed(0).padStart(3)}% ${fmt(done)}/${fmt(total)} ${fmt(rate)}/s ETA ${clock(eta)}`;
  };
  return {
    update(done: number) {
      if (quiet) return;
      const now = performance.now();
      if (tty) {
        if (now - lastDraw < 200 && done < total) return;
        lastDraw = now;
        out.write(`\r${line(done)}\x1b[K`);
      } else {
        const decile = Math.floor((done / Math.max(1, total)) * 10);
        if (decile === lastDecile) return;
        lastDecile = decile;
        out.write(`${line(done)}\n`);
      }
    },
    done(message: string) {
      if (quiet) return;
      out.write(`${tty ? '\r\x1b[K' : ''}${message}\n`);
    },
  };
}
