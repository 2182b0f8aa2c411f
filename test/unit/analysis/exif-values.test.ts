import { describe, expect, it } from 'vitest';
import {
  isPrintableAscii,
  parseExifDate,
  toIptcText,
  toUcs2String,
  toUserComment,
  toXmpText,
} from '../../../src/analysis/exif-values.js';

describe('parseExifDate', () => {
  it.each([
    ['2019:10:16 19:01:03', '2019-10-16T19:01:03.000Z'],
    ['2019:10:16 19:01:03.25', '2019-10-16T19:01:03.250Z'],
    ['2019:10:16', '2019-10-16T00:00:00.000Z'],
    [' 2000:02:29 00:00:00 ', '2000-02-29T00:00:00.000Z'],
  ])('%s → %s', (input, expected) => {
    expect(parseExifDate(input)).toBe(expected);
  });

  it.each(['0000:00:00 00:00:00', '2019:13:01 00:00:00', '2019:02:30 00:00:00', 'Canon', '2019-10-16T19:01:03Z', ''])(
    'leaves %j alone',
    (input) => {
      expect(parseExifDate(input)).toBeUndefined();
    },
  );
});

describe('binary value helpers', () => {
  it('recognises printable ASCII', () => {
    expect(isPrintableAscii(Uint8Array.from([48, 50, 51, 50]))).toBe(true);
    expect(isPrintableAscii(Uint8Array.from([48, 50, 0, 0]))).toBe(true);
    expect(isPrintableAscii(Uint8Array.from([1, 2, 3, 0]))).toBe(false);
    expect(isPrintableAscii(Uint8Array.from([0, 0]))).toBe(false);
  });

  it('decodes XP tags and user comments', () => {
    expect(toUcs2String(Array.from(Buffer.from('Title\0', 'utf16le')))).toBe('Title');
    expect(toUserComment(Buffer.concat([Buffer.from('ASCII\0\0\0'), Buffer.from('hi there')]))).toBe('hi there');
    expect(toUserComment(Buffer.concat([Buffer.from('UNICODE\0'), Buffer.from('héllo', 'utf16le')]))).toBe('héllo');
    expect(toUserComment(Buffer.concat([Buffer.from('UNICODE\0'), Buffer.from('hey', 'utf16le').swap16()]))).toBe('hey');
    expect(toUserComment(Buffer.concat([Buffer.from('ASCII\0\0\0'), Buffer.from('    \0\0')]))).toBeUndefined();
  });

  it('re-reads IPTC Latin-1 text as UTF-8 only when it is valid UTF-8', () => {
    expect(toIptcText(Buffer.from('été', 'utf8').toString('latin1'))).toBe('été');
    expect(toIptcText('caf\u00e9')).toBe('café'); // a genuine Latin-1 é is not valid UTF-8
    expect(toIptcText('plain')).toBe('plain');
  });

  it('collapses XMP language alternatives', () => {
    expect(toXmpText([{ lang: 'fr', value: 'Bonjour' }, { lang: 'x-default', value: 'Hello' }])).toBe('Hello');
    expect(toXmpText([{ lang: 'fr', value: 'Bonjour' }])).toBe('Bonjour');
    expect(toXmpText({ lang: 'x-default', value: 'Hi' })).toBe('Hi');
    expect(toXmpText(['a', 'b'])).toEqual(['a', 'b']);
  });
});
