import { describe, expect, it } from '@jest/globals'
import {
  judgeMissing,
  lookupStatement,
  MAX_TOKEN,
  MIN_TOKEN,
  parseKeyRow,
  resultBlocks,
  samplePlan,
  sampleStatements,
  tableShapes,
  type ColumnRow,
  type TableShape
} from '../../../src/core/cassandra/spot-check-plan.ts'

const col = (table: string, column_name: string, kind: string, type: string, position = -1): ColumnRow => ({ keyspace_name: 'app', table_name: table, column_name, kind, position, type })

describe('tableShapes', () => {
  const columns = [
    col('users', 'b', 'partition_key', 'text', 1),
    col('users', 'a', 'partition_key', 'int', 0),
    col('users', 'ts', 'clustering', 'timestamp', 0),
    col('users', 'name', 'regular', 'text'),
    col('users', 'tags', 'regular', 'set<text>'),
    col('users', 'frozen_tags', 'regular', 'frozen<set<text>>'),
    col('users', 'hits', 'static', 'int'),
    col('counters', 'id', 'partition_key', 'uuid', 0),
    col('counters', 'n', 'regular', 'counter'),
    col('other', 'id', 'partition_key', 'int', 0)
  ]
  it('orders the partition key by position; WRITETIME only on single-cell columns (no counters, no multi-cell collections)', () => {
    const [users, counters] = tableShapes([{ keyspace: 'app', table: 'users' }, { keyspace: 'app', table: 'counters' }, { keyspace: 'app', table: 'gone' }], columns)
    expect(users).toEqual({ keyspace: 'app', table: 'users', partitionKey: ['a', 'b'], timed: ['frozen_tags', 'hits', 'name'] })
    expect(counters.timed).toEqual([]) // existence only
  })
  it('leaves out tables the schema does not know', () => {
    expect(tableShapes([{ keyspace: 'app', table: 'gone' }], columns)).toEqual([])
  })
})

const shape = (table: string, extra: Partial<TableShape> = {}): TableShape => ({ keyspace: 'app', table, partitionKey: ['id'], timed: ['v'], ...extra })

describe('samplePlan', () => {
  const tables = ['c', 'a', 'b'].map((t) => shape(t))
  it('splits the key budget over the tables and never exceeds it', () => {
    const plan = samplePlan(tables, { keys: 1000, tables: 50 }, () => 0.5)
    expect(plan.map((p) => p.table.table)).toEqual(['a', 'b', 'c'])
    expect(plan.map((p) => p.keys)).toEqual([333, 333, 333])
    for (const p of plan) expect(p.ranges.reduce((s, r) => s + r.limit, 0)).toBe(p.keys)
    expect(plan.reduce((s, p) => s + p.keys, 0)).toBeLessThanOrEqual(1000)
  })
  it('caps the tables, and with fewer keys than tables samples one key from the first ones', () => {
    expect(samplePlan(tables, { keys: 1000, tables: 2 }).map((p) => p.table.table)).toEqual(['a', 'b'])
    const few = samplePlan(tables, { keys: 2, tables: 50 })
    expect(few.map((p) => [p.table.table, p.keys])).toEqual([
      ['a', 1],
      ['b', 1]
    ])
    expect(samplePlan(tables, { keys: 100, tables: 0 })).toEqual([])
  })
  it('covers the whole Murmur3 ring in disjoint slices, each read from a random token inside it', () => {
    for (const rng of [() => 0, () => 0.999999, Math.random]) {
      const [p] = samplePlan([shape('t')], { keys: 200, tables: 1, slices: 16 }, rng)
      expect(p.ranges).toHaveLength(16)
      expect(p.ranges[15].to).toBe(MAX_TOKEN + 1n)
      let lo = MIN_TOKEN
      for (const r of p.ranges) {
        expect(r.from).toBeGreaterThanOrEqual(lo)
        expect(r.from).toBeLessThan(r.to)
        lo = r.to
      }
      expect(p.ranges.map((r) => r.limit).reduce((a, b) => a + b)).toBe(200)
    }
  })
  it('a small budget uses as many slices as keys', () => {
    const [p] = samplePlan([shape('t')], { keys: 3, tables: 1 }, () => 0)
    expect(p.ranges.map((r) => [r.from, r.limit])).toEqual([
      [MIN_TOKEN, 1],
      [MIN_TOKEN + (2n ** 64n / 3n), 1],
      [MIN_TOKEN + 2n * (2n ** 64n / 3n), 1]
    ])
  })
})

describe('statements', () => {
  const t = shape('Users', { keyspace: 'my"ks', partitionKey: ['org', 'id'], timed: ['v', 'Name'] })
  it('samples a slice by token, one row per partition, quoted identifiers, with the write times', () => {
    const [p] = samplePlan([t], { keys: 2, tables: 1 }, () => 0)
    expect(sampleStatements(p)).toEqual([
      'SELECT JSON token("org", "id") AS mr_t, WRITETIME("v") AS mr_w0, WRITETIME("Name") AS mr_w1, "org", "id" FROM "my""ks"."Users" WHERE token("org", "id") >= -9223372036854775808 AND token("org", "id") < 0 PER PARTITION LIMIT 1 LIMIT 1',
      'SELECT JSON token("org", "id") AS mr_t, WRITETIME("v") AS mr_w0, WRITETIME("Name") AS mr_w1, "org", "id" FROM "my""ks"."Users" WHERE token("org", "id") >= 0 PER PARTITION LIMIT 1 LIMIT 1'
    ])
  })
  it('looks a key up by its token (times only for the re-check in the source)', () => {
    expect(lookupStatement(t, '-42')).toBe('SELECT JSON token("org", "id") AS mr_t, "org", "id" FROM "my""ks"."Users" WHERE token("org", "id") = -42 PER PARTITION LIMIT 1')
    expect(lookupStatement(shape('k', { timed: [] }), '7', true)).toBe('SELECT JSON token("id") AS mr_t, "id" FROM "app"."k" WHERE token("id") = 7 PER PARTITION LIMIT 1')
  })
})

describe('reading cqlsh output', () => {
  it('keeps 64-bit tokens and write times exact, folds the write times to the newest', () => {
    expect(parseKeyRow(' {"mr_t": -9223372036854775807, "mr_w0": 1733300000000001, "mr_w1": null, "mr_w2": 1733300000000009, "id": 5}')).toEqual({
      token: '-9223372036854775807',
      writetime: 1733300000000009n,
      key: '"id": 5'
    })
    expect(parseKeyRow('{"mr_t": 12, "org": "a, \\"b\\"", "id": 9007199254740993}')).toEqual({ token: '12', writetime: undefined, key: '"org": "a, \\"b\\"", "id": 9007199254740993' })
    expect(parseKeyRow('{"mr_t": 1, "mr_w0": null, "id": 1}')?.writetime).toBeUndefined()
    expect(parseKeyRow('{"n": 1}')).toBeUndefined()
  })
  it('attributes rows to statements by the "(N rows)" that ends every result, empty ones included', () => {
    const out = [
      'Consistency level set to LOCAL_ONE.',
      '',
      ' [json]',
      '------------------------------',
      ' {"mr_t": -5, "id": 1}',
      ' {"mr_t": 3, "id": 2}',
      '',
      '(2 rows)',
      '',
      ' [json]',
      '--------',
      '',
      '(0 rows)',
      '',
      ' [json]',
      '------------------------------',
      ' {"mr_t": 8, "id": 3}',
      '',
      '(1 rows)'
    ].join('\n')
    expect(resultBlocks(out, 3)?.map((b) => b.map((r) => r.token))).toEqual([['-5', '3'], [], ['8']])
    expect(resultBlocks(out, 2)).toBeUndefined() // not the statements' count: cannot attribute
    expect(resultBlocks(out.replace('(2 rows)', '(3 rows)'), 3)).toBeUndefined()
  })
})

describe('judgeMissing: only keys that existed before the rebuild and still exist fail', () => {
  const since = 1_733_300_000_000_000n
  const k = { token: '1', key: '"id": 1', writetime: since - 10n }
  it('gone from the source since (TTL expired, deleted): not a failure', () => {
    expect(judgeMissing(k, [], since)).toBe('gone')
    expect(judgeMissing(k, [{ token: '1', key: '"id": 2', writetime: since - 5n }], since)).toBe('gone') // a token collision is another key
  })
  it('written (or rewritten) at or after the start: not a failure', () => {
    expect(judgeMissing(k, [{ ...k, writetime: since }], since)).toBe('newer')
  })
  it('older and still in the source: missing', () => {
    expect(judgeMissing(k, [k], since)).toBe('missing')
    expect(judgeMissing({ ...k, writetime: undefined }, [{ ...k, writetime: undefined }], since)).toBe('missing') // no write time to excuse it
  })
})
