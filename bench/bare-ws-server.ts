// The baseline for bench:fanout: a bare `ws` broadcast server with no persistence, no auth and
// no validation beyond JSON.parse. It speaks just enough of the ɳChat wire format for the same
// generator to drive it: connect with `/?u=<user>&c=<channel>`, get `[{"type":"hello"}]`, send
// `{"op":"send",channelId,text,clientMsgId}`, get an ack, and every member of the channel gets
// `[{"type":"message.created",...}]`. Each message is serialized once and sent to each member
// as it arrives (the straightforward broadcast loop, no per-tick batching).
// Run: node --import tsx bench/bare-ws-server.ts [port]; prints `listening on http://HOST:PORT`.
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const channels = new Map<string, { seq: number; members: Set<WebSocket> }>();
const server = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 64 * 1024, clientTracking: false });
let nextId = 0;

wss.on('connection', (ws, req) => {
  const q = new URL(req.url ?? '/', 'http://x').searchParams;
  const userId = q.get('u') ?? '?';
  const channelId = q.get('c') ?? '?';
  let ch = channels.get(channelId);
  if (!ch) channels.set(channelId, (ch = { seq: 0, members: new Set() }));
  const chan = ch;
  chan.members.add(ws);
  ws.on('close', () => chan.members.delete(ws));
  ws.on('error', () => {});
  ws.send('[{"type":"hello"}]');
  ws.on('message', (data) => {
    let f: { op?: string; channelId?: string; text?: string; clientMsgId?: string };
    try {
      f = JSON.parse(data.toString());
    } catch {
      return;
    }
    if (f.op !== 'send' || f.channelId !== channelId) return;
    const seq = ++chan.seq;
    const id = String(++nextId);
    ws.send(JSON.stringify([{ type: 'ack', clientMsgId: f.clientMsgId, id, seq, channelId }]));
    const message = { id, channelId, seq, authorId: userId, text: f.text, createdAt: new Date().toISOString(), clientMsgId: f.clientMsgId };
    const frame = JSON.stringify([{ type: 'message.created', channelId, seq, message }]);
    for (const m of chan.members) m.send(frame);
  });
});

server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
