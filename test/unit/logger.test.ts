import { describe, expect, it } from 'vitest';
import { resolveLogFormat } from '../../src/logger.js';
import { runWithRequestId } from '../../src/logging/request-context.js';
import { captureLogs } from '../helpers/log-capture.js';

describe('the logger', () => {
  it('redacts credentials wherever a logged object carries them', () => {
    const logs = captureLogs('info');
    logs.logger.info(
      {
        req: { headers: { authorization: 'Basic c2VjcmV0LWtleTo=', accept: '*/*' } },
        privateKey: 'private_top',
        config: { secret: 'whsec_1', password: 'hunter2', token: 'tok_1', signature: 'sig_1', apiKey: 'private_nested' },
        fileId: 'f1',
      },
      'hello',
    );
    const [record] = logs.records();
    expect(record).toMatchObject({
      msg: 'hello',
      fileId: 'f1',
      privateKey: '[redacted]',
      req: { headers: { authorization: '[redacted]', accept: '*/*' } },
      config: { secret: '[redacted]', password: '[redacted]', token: '[redacted]', signature: '[redacted]', apiKey: '[redacted]' },
    });
    for (const value of ['c2VjcmV0LWtleTo', 'private_top', 'whsec_1', 'hunter2', 'tok_1', 'sig_1', 'private_nested']) expect(logs.lines[0]).not.toContain(value);
  });

  it('logs errors under err with their stack, and names the request a line was written for', () => {
    const logs = captureLogs('debug');
    runWithRequestId('req-9', () => logs.logger.error({ err: new Error('disk full') }, 'Upload failed'));
    logs.logger.debug('outside any request');
    const [inside, outside] = logs.records();
    expect(inside).toMatchObject({ level: 50, requestId: 'req-9', err: { type: 'Error', message: 'disk full', stack: expect.stringContaining('logger.test.ts') } });
    expect(outside).not.toHaveProperty('requestId');
  });

  it('filters by level', () => {
    const logs = captureLogs('warn');
    logs.logger.info('no');
    logs.logger.warn('yes');
    expect(logs.records().map((r) => r.msg)).toEqual(['yes']);
  });

  it('is pretty on a terminal unless told otherwise', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });
});
