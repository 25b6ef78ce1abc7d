import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reusingStatements } from '../../src/store/sqlite.ts';

let db: Database.Database;
beforeEach(() => {
  db = new Database(':memory:');
  db.exec('CREATE TABLE t (n INTEGER)');
  db.exec('INSERT INTO t (n) VALUES (1), (2), (3)');
});
afterEach(() => {
  if (db.open) db.close();
});

describe('reusingStatements: the SQLite store prepares each query once', () => {
  it('hands back the same statement for the same text, and forgets the least recently used past its bound', () => {
    const reusing = reusingStatements(db, 2);
    const a = reusing.prepare('SELECT n FROM t WHERE n = ?');
    expect(reusing.prepare('SELECT n FROM t WHERE n = ?')).toBe(a);
    const b = reusing.prepare('SELECT n FROM t WHERE n > ?');
    reusing.prepare('SELECT n FROM t WHERE n = ?'); // a is now the most recently used
    reusing.prepare('SELECT count(*) FROM t'); // past the bound: b goes
    expect(reusing.prepare('SELECT n FROM t WHERE n = ?')).toBe(a);
    expect(reusing.prepare('SELECT n FROM t WHERE n > ?')).not.toBe(b);
  });

  it('prepares a fresh one while the kept one is still being iterated', () => {
    const reusing = reusingStatements(db);
    const text = 'SELECT n FROM t ORDER BY n';
    const first = reusing.prepare(text);
    const rows = first.iterate([]);
    expect(rows.next().value).toEqual({ n: 1 });
    const second = reusing.prepare(text);
    expect(second).not.toBe(first);
    expect(second.all([])).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect([...rows]).toEqual([{ n: 2 }, { n: 3 }]);
  });

  it('gives Kysely the same answers, reads and writes, with new parameters each time', async () => {
    const kysely = new Kysely<{ t: { n: number } }>({
      dialect: new SqliteDialect({ database: reusingStatements(db) }),
    });
    for (const n of [4, 5]) await kysely.insertInto('t').values({ n }).execute();
    const above = async (n: number) =>
      (await kysely.selectFrom('t').select('n').where('n', '>', n).orderBy('n').execute()).map((r) => r.n);
    expect(await above(3)).toEqual([4, 5]);
    expect(await above(1)).toEqual([2, 3, 4, 5]);
    expect((await sql<{ c: number }>`SELECT count(*) AS c FROM t`.execute(kysely)).rows).toEqual([{ c: 5 }]);
    await kysely.destroy();
    expect(db.open).toBe(false);
  });
});
