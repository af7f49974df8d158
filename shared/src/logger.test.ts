import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from './logger.js';

describe('logger - redaction', () => {
  it('never writes secret fields', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = createLogger({ service: 'test', destination });
    log.info({ password: 'hunter2', nats: { creds: 'SUAXXX' }, vm: { cloudInit: { cipassword: 'pw' } }, vmid: 100 }, 'hello');
    const text = lines.join('');
    expect(text).toContain('"vmid":100');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('SUAXXX');
    expect(text).not.toContain('"pw"');
    expect(text).toContain('[Redacted]');
  });
});
