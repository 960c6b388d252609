/**
 * A client that keeps sending (issue 10): POSTs a large body over raw TCP and reports what came back
 * and whether the connection was reset. Used by test/e2e/body-limits.test.ts and bench section 5.
 */
import { connect } from 'node:net';

export interface Outcome {
  status: number | null;
  body: string;
  /** bytes of the body the client had written when the answer's head arrived */
  sentAtResponse: number | null;
  sent: number;
  /** a client-side error (a reset shows here as ECONNRESET or EPIPE) */
  error: string | null;
}

/**
 * POSTs `total` bytes over a raw TCP connection the way a stubborn client does: keeps writing
 * (respecting backpressure) after the answer arrived, until every byte is written (Node's own
 * client would stop once it has a `Connection: close` answer). `chunked` sends no Content-Length.
 * A reset shows as `error` (ECONNRESET or EPIPE). `pauseAfter`: after that many bytes, send no more
 * until the answer has begun to arrive (so an answer that waits for the whole body never comes).
 */
export function stubbornPost(url: string, path: string, headers: Record<string, string>, total: number, opts: { chunked?: boolean; pauseAfter?: number } = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { status: null, body: '', sentAtResponse: null, sent: 0, error: null };
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    let paused = false;
    socket.on('data', (d: string) => {
      if (out.sentAtResponse === null) out.sentAtResponse = out.sent;
      received += d;
      if (paused) {
        paused = false;
        write();
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => (out.error ??= e.code ?? e.message));
    socket.on('close', () => {
      const m = /^HTTP\/1\.1 (\d{3}) [^\r]*\r\n[\s\S]*?\r\n\r\n([\s\S]*)$/.exec(received);
      if (m) {
        out.status = Number(m[1]);
        out.body = m[2]!;
      }
      resolve(out);
    });
    const all = { host: '127.0.0.1', ...headers, ...(opts.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(total) }) };
    const head = `POST ${path} HTTP/1.1\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    chunk.write('{"action":"opened","padding":"');
    const frame = (data: Buffer): Buffer => (opts.chunked ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]) : data);
    const write = () => {
      while (out.sent < total) {
        if (socket.destroyed) return;
        if (opts.pauseAfter !== undefined && out.sentAtResponse === null && out.sent >= opts.pauseAfter) {
          paused = true;
          return;
        }
        const n = Math.min(chunk.length, total - out.sent, opts.pauseAfter !== undefined && out.sentAtResponse === null ? Math.max(1, opts.pauseAfter - out.sent) : Infinity);
        out.sent += n;
        if (!socket.write(frame(n === chunk.length ? chunk : chunk.subarray(0, n)))) {
          socket.once('drain', write);
          return;
        }
      }
      // everything sent: the chunked terminator, then this side is done (the server closes after its answer)
      if (opts.chunked) socket.end('0\r\n\r\n');
      else socket.end();
    };
    socket.on('connect', () => {
      socket.write(head);
      write();
    });
  });
}

