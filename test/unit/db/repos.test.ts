import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/db/client.js';
import { createSqliteTransactor, type Transactor } from '../../../src/db/transactor.js';
import { CustomFieldRepo } from '../../../src/db/repos/custom-field-repo.js';
import { FileRepo } from '../../../src/db/repos/file-repo.js';
import { WebhookRepo } from '../../../src/db/repos/webhook-repo.js';

const opened: { close: () => void; dir: string }[] = [];
afterEach(() => {
  for (const o of opened.splice(0)) {
    o.close();
    fs.rmSync(o.dir, { recursive: true, force: true });
  }
});

function open() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stowage-repos-'));
  const { db, close } = openDatabase(path.join(dir, 'stowage.db'));
  const transactor = createSqliteTransactor(db);
  opened.push({ close: () => (transactor.close(), close()), dir });
  return transactor;
}

const at = new Date(1_700_000_000_000);

/** A file at `filePath` with versions numbered `numbers` (the last one current). */
async function addFile(files: FileRepo, db: Transactor, id: string, filePath: string, numbers: number[]) {
  const folderPath = filePath.slice(0, filePath.lastIndexOf('/')) || '/';
  const name = filePath.slice(filePath.lastIndexOf('/') + 1);
  const current = `${id}-v${numbers.at(-1)}`;
  await db.transaction(async (tx) => {
    const q = files.inTx(tx);
    await q.ensureFolders(folderPath, at);
    await q.insertFile({ id, filePath, folderPath, name, currentVersionId: current, versionCounter: numbers.at(-1) as number, createdAt: at, updatedAt: at });
    for (const number of numbers) {
      const versionId = `${id}-v${number}`;
      await q.insertVersion({ id: versionId, fileId: id, number, isCurrent: versionId === current, folderPath, name, blobKey: `files/${versionId}`, size: 1, mime: 'text/plain', fileType: 'non-image', isPrivateFile: false, isPublished: true, createdAt: at, updatedAt: at });
    }
  });
}

describe('FileRepo', () => {
  it('creates every missing folder above a path once, leaving existing ones as they were', async () => {
    const db = open();
    const files = new FileRepo(db);
    await db.transaction(async (tx) => files.inTx(tx).ensureFolders('/a', new Date(1)));
    await db.transaction(async (tx) => files.inTx(tx).ensureFolders('/a/b/c', at));
    expect((await files.listFolders('/')).map((f) => [f.folderPath, f.createdAt.getTime()])).toEqual([['/a', 1]]);
    expect((await files.listFolders('/a')).map((f) => f.folderPath)).toEqual(['/a/b']);
    expect((await files.listFolders('/a/b')).map((f) => [f.name, f.parentPath])).toEqual([['c', '/a/b']]);
  });

  it('finds what is within a folder: the folder and paths below it, not siblings that share its prefix', async () => {
    const db = open();
    const files = new FileRepo(db);
    await addFile(files, db, 'f1', '/a/one.txt', [1]);
    await addFile(files, db, 'f2', '/a/b/two.txt', [1]);
    await addFile(files, db, 'f3', '/ab/three.txt', [1]);
    await addFile(files, db, 'f4', '/a-b/four.txt', [1]);
    const idOf = async (parent: string, folderPath: string) => (await files.listFolders(parent)).find((f) => f.folderPath === folderPath)?.id;
    const expected = [await idOf('/', '/a'), await idOf('/a', '/a/b')].sort();
    await db.transaction(async (tx) => {
      const q = files.inTx(tx);
      expect((await q.fileIdsWithin('/a')).sort()).toEqual(['f1', 'f2']);
      expect((await q.folderIdsWithin('/a')).sort()).toEqual(expected);
      expect(await q.folderIdsWithin('/a/b')).toEqual([(await q.findFolder('/a/b'))?.id]);
    });
  });

  it('finds the version numbered next after one, across gaps left by deleted versions', async () => {
    const db = open();
    const files = new FileRepo(db);
    await addFile(files, db, 'f1', '/x.txt', [1, 3, 4]);
    await db.transaction(async (tx) => {
      const q = files.inTx(tx);
      expect((await q.nextVersion('f1', 1))?.id).toBe('f1-v3');
      expect(await q.nextVersion('f1', 4)).toBeUndefined();
    });
  });

  it('lists the blobs of every version of the given files, and none for no files', async () => {
    const db = open();
    const files = new FileRepo(db);
    await addFile(files, db, 'f1', '/x.txt', [1, 2]);
    await addFile(files, db, 'f2', '/y.txt', [1]);
    await db.transaction(async (tx) => {
      const q = files.inTx(tx);
      expect((await q.versionBlobs(['f1'])).map((v) => v.blobKey).sort()).toEqual(['files/f1-v1', 'files/f1-v2']);
      expect(await q.versionBlobs([])).toEqual([]);
      await q.deleteFiles([]);
      await q.deleteFiles(['f1']);
    });
    expect(await files.findById('f1')).toBeUndefined();
    expect(await files.hasBlobKey('files/f1-v1')).toBe(false);
    expect((await files.findById('f2'))?.version.id).toBe('f2-v1');
  });

  it('answers reads asynchronously, current version unless a version is named', async () => {
    const db = open();
    const files = new FileRepo(db);
    await addFile(files, db, 'f1', '/x.txt', [1, 2]);
    const found = files.findByPath('/x.txt');
    expect(found).toBeInstanceOf(Promise);
    expect((await found)?.version.id).toBe('f1-v2');
    expect((await files.findVersion('f1', 'f1-v1'))?.version.number).toBe(1);
    expect(await files.findVersion('f1', 'nope')).toBeUndefined();
    expect(await files.countVersions('f1')).toBe(2);
    expect((await files.listVersions('f1'))?.map((v) => v.version.number)).toEqual([1, 2]);
    expect(await files.listVersions('nope')).toBeUndefined();
  });
});

describe('CustomFieldRepo', () => {
  const field = (id: string, name: string, label: string) => ({ id, name, label, schema: { type: 'Text' as const }, createdAt: at, updatedAt: at });

  it('keeps names taken forever and frees the label of a deleted field', async () => {
    const db = open();
    const fields = new CustomFieldRepo(db);
    await db.transaction(async (tx) => fields.inTx(tx).insert(field('c1', 'price', 'Price')));
    expect(await fields.markDeleted('c1', at)).toBe(true);
    expect(await fields.markDeleted('c1', at)).toBe(false);
    await db.transaction(async (tx) => {
      const q = fields.inTx(tx);
      expect(await q.isNameTaken('price')).toBe(true);
      expect(await q.isLabelTaken('Price')).toBe(false);
    });
    expect(await fields.list()).toEqual([]);
    expect((await fields.list(true)).map((f) => f.id)).toEqual(['c1']);
  });

  it('does not count a field\'s own label as taken when it is the one being changed', async () => {
    const db = open();
    const fields = new CustomFieldRepo(db);
    await db.transaction(async (tx) => {
      const q = fields.inTx(tx);
      await q.insert(field('c1', 'price', 'Price'));
      expect(await q.isLabelTaken('Price', 'c1')).toBe(false);
      expect(await q.isLabelTaken('Price', 'c2')).toBe(true);
      expect((await q.update('c1', { label: 'Cost' }))?.label).toBe('Cost');
      expect(await q.update('c2', { label: 'Cost' })).toBeUndefined();
    });
  });
});

describe('WebhookRepo', () => {
  it('appends each attempt to a delivery and lists deliveries newest first', async () => {
    const db = open();
    const webhooks = new WebhookRepo(db);
    const delivery = (id: string, createdAt: Date) => ({ id, eventId: `e-${id}`, eventType: 'file.created', url: 'http://example.test/', body: '{}', status: 'pending' as const, attempts: [], createdAt, updatedAt: createdAt });
    await db.transaction(async (tx) => {
      await webhooks.inTx(tx).insertDelivery(delivery('d1', new Date(1)));
      await webhooks.inTx(tx).insertDelivery(delivery('d2', new Date(2)));
    });
    const attempt = (statusCode: number) => ({ at: at.toISOString(), statusCode, error: statusCode === 200 ? null : `HTTP ${statusCode}`, durationMs: 5 });
    await webhooks.recordAttempt('d1', attempt(500), 'pending', at);
    await webhooks.recordAttempt('d1', attempt(200), 'delivered', at);
    const d1 = await webhooks.findDelivery('d1');
    expect(d1?.status).toBe('delivered');
    expect(d1?.attempts.map((a) => a.statusCode)).toEqual([500, 200]);
    expect((await webhooks.listDeliveries(10)).map((d) => d.id)).toEqual(['d2', 'd1']);
    expect((await webhooks.listDeliveries(1)).map((d) => d.id)).toEqual(['d2']);
  });

  it('adds and removes endpoints, saying whether one was removed', async () => {
    const db = open();
    const webhooks = new WebhookRepo(db);
    await webhooks.addEndpoint({ id: 'w1', url: 'http://example.test/hook', events: ['file.created'], createdAt: at });
    expect((await webhooks.listEndpoints()).map((e) => [e.url, e.events])).toEqual([['http://example.test/hook', ['file.created']]]);
    expect(await webhooks.removeEndpoint('w1')).toBe(true);
    expect(await webhooks.removeEndpoint('w1')).toBe(false);
    expect(await webhooks.listEndpoints()).toEqual([]);
  });
});
