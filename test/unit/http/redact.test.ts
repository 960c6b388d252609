import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { LOG_REDACT, SECRET_HEADERS, loggablePath } from '../../../src/http/redact.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { log: pino({ redact: LOG_REDACT }, stream), lines };
}

describe('log redaction', () => {
  it('replaces every secret header wherever a logged object carries headers', () => {
    const { log, lines } = capture();
    const headers = Object.fromEntries(SECRET_HEADERS.map((h) => [h, `secret-${h}`]));
    log.info({ headers: { ...headers, 'x-github-event': 'push' } });
    log.info({ req: { headers: { ...headers } } });
    log.info({ err: { request: { headers: { ...headers } } } });
    log.info({ error: { response: { headers: { ...headers } } } });
    const text = lines.join('');
    for (const h of SECRET_HEADERS) expect(text).not.toContain(`secret-${h}`);
    expect(text).toContain('"x-github-event":"push"');
    expect(text.match(/\[redacted\]/g)?.length).toBe(SECRET_HEADERS.length * 4);
  });

  it('hides the Statuspage token in a path and leaves other paths alone', () => {
    expect(loggablePath('/moratorium/webhooks/statuspage/tok-123')).toBe('/moratorium/webhooks/statuspage/[redacted]');
    expect(loggablePath('/moratorium/webhooks/statuspage/')).toBe('/moratorium/webhooks/statuspage/');
    expect(loggablePath('/moratorium/api/v1/state')).toBe('/moratorium/api/v1/state');
  });
});
