import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ImageKit from '@imagekit/nodejs';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/db/client.js';
import { UploadTokenRepo } from '../../../src/db/repos/upload-token-repo.js';
import { createSqliteTransactor } from '../../../src/db/transactor.js';
import { type AppError, isAppError } from '../../../src/errors.js';
import { type ClientAuthDeps, MAX_EXPIRE_AHEAD_S, parseExpire, signUploadToken, verifyClientAuth } from '../../../src/rest/client-auth.js';

const PRIVATE_KEY = 'private_unit_key';
const PUBLIC_KEY = 'public_unit_key';
const sdk = new ImageKit({ privateKey: PRIVATE_KEY });

async function appErrorOf(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isAppError(error)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

/** Deps with an in-memory token set and a fixed clock. */
function depsAt(nowMs: number): ClientAuthDeps & { used: Map<string, number> } {
  const used = new Map<string, number>();
  return {
    used,
    publicKeys: ['public_other', PUBLIC_KEY],
    privateKeys: ['private_rotated_out', PRIVATE_KEY],
    now: () => nowMs,
    useToken: async (token, expiresAtMs) => {
      if (used.has(token)) return false;
      used.set(token, expiresAtMs);
      return true;
    },
  };
}

const formOf = (auth: { token: string; expire: number; signature: string }, publicKey = PUBLIC_KEY) =>
  new Map([
    ['publicKey', publicKey],
    ['token', auth.token],
    ['expire', String(auth.expire)],
    ['signature', auth.signature],
  ]);

describe('client-side upload signatures', () => {
  it('are what the SDK helper\'s getAuthenticationParameters() computes', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 64 }), fc.integer({ min: 1, max: 4_000_000_000 }), (token, expire) => {
        expect(signUploadToken(PRIVATE_KEY, token, expire)).toBe(sdk.helper.getAuthenticationParameters(token, expire).signature);
      }),
    );
  });

  it('accept expire in the next hour, and nothing else', () => {
    const now = 1_800_000_000_000;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_EXPIRE_AHEAD_S }), (ahead) => {
        const expire = Math.floor(now / 1000) + ahead;
        expect(parseExpire(String(expire), now)).toBe(expire * 1000);
      }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -10 * MAX_EXPIRE_AHEAD_S, max: 0 }), fc.integer({ min: MAX_EXPIRE_AHEAD_S + 1, max: 100 * MAX_EXPIRE_AHEAD_S })), (ahead) => {
        expect(() => parseExpire(String(Math.floor(now / 1000) + ahead), now)).toThrow(/^Your request contains invalid expire parameter\./);
      }),
    );
    fc.assert(
      fc.property(fc.string().filter((s) => !/^\s*\d{1,12}\s*$/.test(s)), (raw) => {
        expect(() => parseExpire(raw, now)).toThrow(/invalid expire parameter/);
      }),
    );
  });

  it('authenticate the SDK\'s parameters once, and use up the token until its expiry', async () => {
    const deps = depsAt(Date.now());
    const auth = sdk.helper.getAuthenticationParameters();
    await verifyClientAuth(formOf(auth), deps);
    expect(deps.used.get(auth.token)).toBe(auth.expire * 1000);
    const again = await appErrorOf(verifyClientAuth(formOf(auth), deps));
    expect(again).toMatchObject({ status: 400, parameter: 'token' });
  });

  it('refuse what is missing or wrong, naming it, without using up the token', async () => {
    const deps = depsAt(Date.now());
    const auth = sdk.helper.getAuthenticationParameters();
    expect(await appErrorOf(verifyClientAuth(new Map(), deps))).toMatchObject({ status: 401, message: 'Your request does not contain private API key.' });
    for (const name of ['publicKey', 'token', 'expire', 'signature']) {
      const form = formOf(auth);
      form.delete(name);
      expect(await appErrorOf(verifyClientAuth(form, deps))).toMatchObject({ status: 400, parameter: name, message: `Your request is missing ${name} parameter.` });
    }
    expect(await appErrorOf(verifyClientAuth(formOf(auth, 'public_unknown'), deps))).toMatchObject({ parameter: 'publicKey' });
    const forged = new ImageKit({ privateKey: 'private_not_ours' }).helper.getAuthenticationParameters(auth.token, auth.expire);
    expect(await appErrorOf(verifyClientAuth(formOf(forged), deps))).toMatchObject({ message: 'Your request contains invalid signature parameter.' });
    const tampered = { ...auth, expire: auth.expire + 1 };
    expect(await appErrorOf(verifyClientAuth(formOf(tampered), deps))).toMatchObject({ parameter: 'signature' });
    expect(deps.used.size).toBe(0);
  });
});

describe('UploadTokenRepo', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reports a token new once, on every repository over the database, and forgets it after its expiry', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stowage-tokens-'));
    dirs.push(dir);
    const { db, close } = openDatabase(path.join(dir, 'stowage.db'));
    const transactor = createSqliteTransactor(db);
    let now = 1_000_000;
    const clock = { now: () => now };
    const one = new UploadTokenRepo(transactor, clock);
    const other = new UploadTokenRepo(transactor, clock);
    try {
      expect(await one.use('t1', 2_000_000)).toBe(true);
      expect(await other.use('t1', 2_000_000)).toBe(false);
      expect(await one.use('t2', 5_000_000)).toBe(true);
      now = 3_000_000;
      expect(await one.deleteExpired()).toBe(1);
      expect(await other.use('t2', 5_000_000)).toBe(false);
    } finally {
      await transactor.close();
      close();
    }
  });
});
