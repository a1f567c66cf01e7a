// The admin performance page's data: the load-test run directories in the reports folder
// (loadtest-runs/ under the server's working directory, where `nchat loadtest` writes by default)
// and their report files. Workspace owners and admins only. Only plain names are accepted (no
// path separators, no dot-files), so a request cannot leave the folder; HTML is never served from
// here (the client renders the Markdown report itself and shows charts as images).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { actorOf } from './actor.js';
import { BinaryReply } from '../../protocol/files.js';

export const DEFAULT_REPORTS_DIR = 'loadtest-runs';

const NAME = '^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$';
const TYPES: Record<string, string> = {
  '.md': 'text/markdown; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.csv': 'text/csv; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};
const extOf = (n: string) => /\.[a-z]+$/.exec(n)?.[0] ?? '';

const ReportFile = Type.Object({ name: Type.String(), size: Type.Integer(), url: Type.String() }, { additionalProperties: false });
const ReportsReply = Type.Object(
  {
    reports: Type.Array(
      Type.Object({ run: Type.String(), modifiedAt: Type.String(), files: Type.Array(ReportFile) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);
const FileParams = Type.Object(
  { run: Type.String({ pattern: NAME }), file: Type.String({ pattern: '^(charts~)?[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$' }) },
  { additionalProperties: false },
);

function requireAdmin(req: FastifyRequest): void {
  const a = actorOf(req);
  if (a.role !== 'owner' && a.role !== 'admin') throw new AppError('FORBIDDEN', 'workspace owners and admins only');
}

/** Report files of one run: its top-level files and those in charts/, of the served types. */
function filesOf(runDir: string, run: string) {
  const out: { name: string; size: number; url: string }[] = [];
  for (const sub of ['', 'charts']) {
    const dir = join(runDir, sub);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir).sort()) {
      if (!new RegExp(NAME).test(name) || !TYPES[extOf(name)]) continue;
      const st = statSync(join(dir, name));
      if (!st.isFile()) continue;
      const rel = sub ? `${sub}~${name}` : name;
      out.push({
        name: sub ? `${sub}/${name}` : name,
        size: st.size,
        url: `/api/admin/reports/${encodeURIComponent(run)}/${encodeURIComponent(rel)}`,
      });
    }
  }
  return out;
}

export function registerReportRoutes(app: FastifyInstance, opts: { dir?: string } = {}): void {
  const root = resolve(opts.dir ?? DEFAULT_REPORTS_DIR);
  app.get(
    '/api/admin/reports',
    { schema: { summary: 'Load-test runs in the reports folder (workspace owner/admin)', response: { 200: ReportsReply } } },
    async (req) => {
      requireAdmin(req);
      if (!existsSync(root)) return { reports: [] };
      const reports = readdirSync(root)
        .filter((n) => new RegExp(NAME).test(n) && statSync(join(root, n)).isDirectory())
        .map((run) => ({ run, modifiedAt: statSync(join(root, run)).mtime.toISOString(), files: filesOf(join(root, run), run) }))
        .sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt));
      return { reports };
    },
  );
  app.get<{ Params: { run: string; file: string } }>(
    '/api/admin/reports/:run/:file',
    { schema: { summary: 'One report file (charts/x.png is written charts~x.png)', params: FileParams, response: { 200: BinaryReply } } },
    async (req, reply) => {
      requireAdmin(req);
      const { run, file } = req.params;
      const [sub, name] = file.startsWith('charts~') ? ['charts', file.slice(7)] : ['', file];
      const type = TYPES[extOf(name)];
      const path = join(root, run, sub, name);
      if (!type || !new RegExp(NAME).test(name) || !existsSync(path) || !statSync(path).isFile())
        throw new AppError('NOT_FOUND', 'no such report file');
      reply
        .type(type)
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox")
        .header('x-content-type-options', 'nosniff');
      return reply.sendFile(name, join(root, run, sub));
    },
  );
}
