import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REDACTED, redactUrl, SECRET_QUERY_PARAMS } from '../../src/logging/redact-url.js';

const SECRETS = [...SECRET_QUERY_PARAMS];

/** A secret param name as a client might spell it: any case, maybe with one character percent-encoded. */
const secretName = fc
  .tuple(fc.constantFrom(...SECRETS), fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }), fc.nat(9), fc.boolean())
  .map(([name, upper, at, encode]) => {
    const cased = [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('');
    const i = at % cased.length;
    return encode ? `${cased.slice(0, i)}%${cased.charCodeAt(i).toString(16).toUpperCase()}${cased.slice(i + 1)}` : cased;
  });
/** Everything but secrets is lower case, so an upper-case secret value can only appear in the output if leaked. */
const plain = fc.stringMatching(/^[a-z0-9._~-]{1,12}$/).filter((name) => !SECRET_QUERY_PARAMS.has(name));
const secretValue = fc.stringMatching(/^[A-Z]{4,24}$/);
const param = fc.oneof(
  fc.record({ name: secretName, value: secretValue, secret: fc.constant(true) }),
  fc.record({ name: plain, value: plain, secret: fc.constant(false) }),
);
const target = fc.record({ segments: fc.array(plain, { minLength: 1, maxLength: 4 }), params: fc.array(param, { maxLength: 6 }) }).map(({ segments, params }) => ({
  url: `/${segments.join('/')}${params.length ? `?${params.map((p) => `${p.name}=${p.value}`).join('&')}` : ''}`,
  params,
}));

describe('redactUrl', () => {
  it('replaces the values of signed and secret query params, keeping the rest as sent', () => {
    expect(redactUrl('/photos/a.jpg?tr=w-100&ik-t=1999999999&ik-s=0123abcd')).toBe(`/photos/a.jpg?tr=w-100&ik-t=${REDACTED}&ik-s=${REDACTED}`);
    expect(redactUrl('/a.jpg?IK-S=x&Signature=y&token=z&key=k&q=a+b%20c')).toBe(`/a.jpg?IK-S=${REDACTED}&Signature=${REDACTED}&token=${REDACTED}&key=${REDACTED}&q=a+b%20c`);
    expect(redactUrl('/a.jpg?ik%2Ds=abc&ik-s')).toBe(`/a.jpg?ik%2Ds=${REDACTED}&ik-s`);
    expect(redactUrl('/a.jpg?ik-s=a=b&ik-sx=kept')).toBe(`/a.jpg?ik-s=${REDACTED}&ik-sx=kept`);
    expect(redactUrl('/plain/path.png')).toBe('/plain/path.png');
  });

  it('hides the access pass in a stream file path', () => {
    const pass = `${'a'.repeat(32)}.1999999999.${'b'.repeat(32)}`;
    expect(redactUrl(`/v.mp4/ik-abs/ver1/${pass}/seg-1.ts?x=1`)).toBe(`/v.mp4/ik-abs/ver1/${REDACTED}/seg-1.ts?x=1`);
  });

  it('never outputs the value of an ik-s, ik-t, signature, token or key param, and keeps every other param', () => {
    fc.assert(
      fc.property(target, ({ url, params }) => {
        const out = redactUrl(url);
        for (const p of params.filter((p) => p.secret)) expect(out).not.toContain(p.value);
        const kept = out.split('?')[1]?.split('&') ?? [];
        expect(kept).toEqual(params.map((p) => `${p.name}=${p.secret ? REDACTED : p.value}`));
      }),
    );
  });

  it('leaves nothing of a secret value of any characters, however it was encoded', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SECRETS), fc.string({ minLength: 1, unit: 'grapheme' }), (name, value) => {
        const out = redactUrl(`/f.jpg?a=1&${name}=${encodeURIComponent(value)}&b=2`);
        expect(new URLSearchParams(out.split('?')[1]).get(name)).toBe(REDACTED);
        expect(out).toBe(`/f.jpg?a=1&${name}=${REDACTED}&b=2`);
      }),
    );
  });
});
