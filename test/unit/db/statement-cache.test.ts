import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { sql } from 'drizzle-orm';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import { cacheStatements } from '../../../src/db/statement-cache.js';

const items = sqliteTable('items', { id: integer('id').primaryKey(), name: text('name').notNull() });

function open() {
  const connection = new Database(':memory:');
  cacheStatements(connection);
  connection.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)');
  connection.exec("INSERT INTO items (id, name) VALUES (1, 'a'), (2, 'b')");
  return connection;
}

describe('cached statements', () => {
  it('hands out one compiled statement per SQL text', () => {
    const connection = open();
    expect(connection.prepare('SELECT name FROM items')).toBe(connection.prepare('SELECT name FROM items'));
  });

  it('gives a statement back in object mode after a caller switched it to raw rows', () => {
    const connection = open();
    expect(connection.prepare('SELECT name FROM items WHERE id = ?').raw().get(1)).toEqual(['a']);
    expect(connection.prepare('SELECT name FROM items WHERE id = ?').get(1)).toEqual({ name: 'a' });
  });

  it('keeps drizzle results right when one SQL text is read both as rows and as objects', async () => {
    const connection = open();
    const db = drizzle(connection);
    const query = 'select "id", "name" from "items" order by "id"';
    expect(await db.select({ id: items.id, name: items.name }).from(items).orderBy(items.id)).toEqual([{ id: 1, name: 'a' }, { id: 2, name: 'b' }]);
    expect(await db.all(sql.raw(query))).toEqual([{ id: 1, name: 'a' }, { id: 2, name: 'b' }]);
    expect(await db.values(sql.raw(query))).toEqual([[1, 'a'], [2, 'b']]);
    expect(await db.all(sql.raw(query))).toEqual([{ id: 1, name: 'a' }, { id: 2, name: 'b' }]);
  });

  it('drops the least recently used statement past the cap, and still runs it when asked again', () => {
    const connection = open();
    const first = connection.prepare('SELECT 0 AS n');
    for (let i = 1; i <= 200; i++) connection.prepare(`SELECT ${i} AS n`);
    const again = connection.prepare('SELECT 0 AS n');
    expect(again).not.toBe(first);
    expect(again.get()).toEqual({ n: 0 });
  });

  it('sees schema changes made after a statement was compiled', () => {
    const connection = open();
    expect(connection.prepare('SELECT * FROM items WHERE id = 1').get()).toEqual({ id: 1, name: 'a' });
    connection.exec("ALTER TABLE items ADD COLUMN colour TEXT DEFAULT 'red'");
    expect(connection.prepare('SELECT * FROM items WHERE id = 1').get()).toEqual({ id: 1, name: 'a', colour: 'red' });
  });
});
