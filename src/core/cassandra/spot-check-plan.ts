// The spot check after a rebuild, as pure functions: which partition keys to sample from the
// source DC (spread over the Murmur3 token ring, bounded per table), the CQL that samples them and
// looks each one up by its token in the new DC, how cqlsh's output is read back, and the verdict.
//
// A live cluster keeps writing and expiring rows, so counts never match; instead every sampled key
// must be found in the new DC unless it is younger than the check's reference time (WRITETIME, in
// microseconds) or no longer exists in the source either (expired by TTL, deleted).
import { cqlIdent } from './cqlsh.ts'

export interface TableRef {
  keyspace: string
  table: string
}

export interface TableShape extends TableRef {
  /** partition key columns in position order */
  partitionKey: string[]
  /** regular/static columns whose WRITETIME can be selected (no counters, no multi-cell types) */
  timed: string[]
}

export interface ColumnRow {
  keyspace_name: string
  table_name: string
  column_name: string
  kind: string
  position: number
  type: string
}

// native and frozen types have one cell, so WRITETIME works on them on every Cassandra version
const SINGLE_CELL = /^(ascii|bigint|blob|boolean|date|decimal|double|duration|float|inet|int|smallint|text|time|timestamp|timeuuid|tinyint|uuid|varchar|varint|frozen<.*>|vector<.*>)$/i
const MAX_TIMED = 4

/** Table shapes from system_schema.columns rows; tables without rows there are left out. */
export function tableShapes(tables: TableRef[], columns: ColumnRow[]): TableShape[] {
  return tables.flatMap((t) => {
    const cols = columns.filter((c) => c.keyspace_name === t.keyspace && c.table_name === t.table)
    const partitionKey = cols
      .filter((c) => c.kind === 'partition_key')
      .sort((a, b) => a.position - b.position)
      .map((c) => c.column_name)
    if (!partitionKey.length) return []
    const timed = cols
      .filter((c) => (c.kind === 'regular' || c.kind === 'static') && SINGLE_CELL.test(c.type))
      .map((c) => c.column_name)
      .sort()
      .slice(0, MAX_TIMED)
    return [{ ...t, partitionKey, timed }]
  })
}

export const MIN_TOKEN = -(2n ** 63n)
export const MAX_TOKEN = 2n ** 63n - 1n

export interface RangeSample {
  /** first token read (inclusive) */
  from: bigint
  /** end of the slice (exclusive; MAX_TOKEN + 1 for the last) */
  to: bigint
  limit: number
}

export interface TablePlan {
  table: TableShape
  /** keys wanted from this table */
  keys: number
  ranges: RangeSample[]
}

export interface PlanLimits {
  /** keys sampled over all tables */
  keys: number
  /** tables sampled at most (name order) */
  tables: number
  /** token slices per table at most */
  slices?: number
}

/**
 * Splits the key budget over the tables and, per table, over equal slices of the token ring; each
 * slice is read from a random token inside it (rng in [0, 1)), so repeated checks see other keys
 * and every node's ranges get their share.
 */
export function samplePlan(tables: TableShape[], limits: PlanLimits, rng: () => number = Math.random): TablePlan[] {
  const chosen = [...tables].sort((a, b) => `${a.keyspace}.${a.table}`.localeCompare(`${b.keyspace}.${b.table}`)).slice(0, Math.max(0, limits.tables))
  if (!chosen.length || limits.keys < 1) return []
  const per = Math.max(1, Math.floor(limits.keys / chosen.length))
  const withKeys = chosen.slice(0, Math.min(chosen.length, limits.keys))
  return withKeys.map((table) => {
    const n = Math.max(1, Math.min(per, limits.slices ?? 32))
    const width = (MAX_TOKEN - MIN_TOKEN + 1n) / BigInt(n)
    const ranges: RangeSample[] = []
    for (let i = 0; i < n; i++) {
      const lo = MIN_TOKEN + width * BigInt(i)
      const hi = i === n - 1 ? MAX_TOKEN + 1n : lo + width
      // a start in the first half of the slice leaves room to find keys after it
      const offset = BigInt(Math.floor(rng() * 2 ** 52)) * ((hi - lo) / 2n) / 2n ** 52n
      ranges.push({ from: lo + offset, to: hi, limit: Math.floor(per / n) + (i < per % n ? 1 : 0) })
    }
    return { table, keys: per, ranges }
  })
}

const cols = (names: string[]): string => names.map(cqlIdent).join(', ')
const tokenOf = (t: TableShape): string => `token(${cols(t.partitionKey)})`
const from = (t: TableShape): string => `${cqlIdent(t.keyspace)}.${cqlIdent(t.table)}`

/** The selection of every key query: the token first, then (with times) one WRITETIME per timed
 *  column (folded to the newest when read), then the key columns. */
function selection(t: TableShape, withTime: boolean): string {
  const times = withTime ? t.timed.map((c, i) => `, WRITETIME(${cqlIdent(c)}) AS mr_w${i}`).join('') : ''
  return `SELECT JSON ${tokenOf(t)} AS mr_t${times}, ${cols(t.partitionKey)} FROM ${from(t)}`
}

/** One query per slice: the first keys at or after a random token of the slice, one row per partition. */
export function sampleStatements(p: TablePlan): string[] {
  return p.ranges.map((r) => {
    const end = r.to > MAX_TOKEN ? '' : ` AND ${tokenOf(p.table)} < ${r.to}`
    return `${selection(p.table, true)} WHERE ${tokenOf(p.table)} >= ${r.from}${end} PER PARTITION LIMIT 1 LIMIT ${r.limit}`
  })
}

/** The lookup of one sampled key by its token (a token can hold several keys: the caller compares them). */
export function lookupStatement(t: TableShape, token: string, withTime = false): string {
  return `${selection(t, withTime)} WHERE ${tokenOf(t)} = ${token} PER PARTITION LIMIT 1`
}

export interface KeyRow {
  /** the token, as printed (a bigint: never through a JS number) */
  token: string
  /** newest WRITETIME of the timed columns (microseconds), undefined when none is set */
  writetime?: bigint
  /** the key columns as cqlsh printed them: the identity compared between the DCs */
  key: string
}

/** One `{"mr_t": ..., "mr_w0": ..., "k": ...}` line of SELECT JSON output. */
export function parseKeyRow(line: string): KeyRow | undefined {
  const m = /^\{"mr_t": (-?\d+)((?:, "mr_w\d+": (?:null|-?\d+))*), (.*)\}$/.exec(line.trim())
  if (!m) return undefined
  const times = [...m[2].matchAll(/"mr_w\d+": (-?\d+)/g)].map((x) => BigInt(x[1]))
  const writetime = times.length ? times.reduce((a, b) => (b > a ? b : a)) : undefined
  return { token: m[1], writetime, key: m[3] }
}

/**
 * Splits the output of a cqlsh -f session into the rows of each SELECT: cqlsh ends every result,
 * empty or not, with "(N rows)". Returns undefined when the count of results is not `n` (then the
 * output cannot be attributed to the statements).
 */
export function resultBlocks(stdout: string, n: number): KeyRow[][] | undefined {
  const blocks: KeyRow[][] = []
  let cur: KeyRow[] = []
  for (const line of stdout.split('\n')) {
    const t = line.trim()
    const end = /^\((\d+) rows?\)$/.exec(t)
    if (end) {
      if (Number(end[1]) !== cur.length) return undefined
      blocks.push(cur)
      cur = []
      continue
    }
    if (t.startsWith('{')) {
      const row = parseKeyRow(t)
      if (!row) return undefined
      cur.push(row)
    }
  }
  return blocks.length === n ? blocks : undefined
}

export type KeyVerdict = 'found' | 'missing' | 'newer' | 'gone'

/**
 * A key sampled in the source and not found in the new DC, judged by what the source says now:
 * gone (expired by TTL or deleted) or written at/after `sinceMicros` (the rebuild had not started
 * when it was written) are not failures; an older key still in the source is missing.
 */
export function judgeMissing(sampled: KeyRow, recheck: KeyRow[], sinceMicros: bigint): KeyVerdict {
  const now = recheck.find((r) => r.key === sampled.key)
  if (!now) return 'gone'
  const w = now.writetime ?? sampled.writetime
  if (w !== undefined && w >= sinceMicros) return 'newer'
  return 'missing'
}

export interface TableLoad {
  queries: number
  rows: number
  ms: number
}

export interface TableResult {
  table: string
  sampled: number
  found: number
  missing: number
  newer: number
  gone: number
  /** tokens of the first missing keys (tokens name a key without printing its data) */
  missingTokens: string[]
  source: TableLoad
  target: TableLoad
}

export function spotCheckRows(results: TableResult[]): (string | number)[][] {
  return results.map((r) => [
    r.table,
    r.sampled,
    r.found,
    r.newer + r.gone,
    r.missing,
    `${r.source.queries} q / ${r.source.rows} rows / ${r.source.ms} ms`,
    `${r.target.queries} q / ${r.target.rows} rows / ${r.target.ms} ms`,
    r.missing ? 'MISSING' : 'ok'
  ])
}
export const SPOT_CHECK_HEADERS = ['table', 'sampled', 'found', 'newer/expired', 'missing', 'load on source', 'load on new DC', 'result']
