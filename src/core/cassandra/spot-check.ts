// The spot check after a rebuild, against the pods: sample partition keys from a source pod (its
// own DC's replicas at LOCAL_ONE), look each one up by token at LOCAL_ONE on a pod of the new DC,
// and re-read in the source the keys the new DC lacks. Every query goes through sessions of
// cqlsh's own driver (cqlsh -f where it cannot be imported: cql-driver.ts), of bounded size,
// paced to at most `ratePerS` queries per second on each side, so the check adds a known, small
// load to the DC that serves traffic (reported per table: queries, rows, time). cqlsh -f alone
// managed ~20 queries/s here, under the default rate: the check took 54 s for 857 keys.
import { ActionError } from '../errors.ts'
import { sleep as realSleep } from '../wait.ts'
import type { Cqlsh } from './cqlsh.ts'
import {
  judgeMissing,
  lookupStatement,
  resultBlocks,
  sampleStatements,
  samplePlan,
  tableShapes,
  type ColumnRow,
  type KeyRow,
  type TableLoad,
  type TablePlan,
  type TableResult
} from './spot-check-plan.ts'

export interface CqlPod {
  cql: Cqlsh
  pod: string
}

export interface SpotCheckOptions {
  source: CqlPod
  target: CqlPod
  /** keyspaces whose tables are sampled (name order, up to maxTables) */
  keyspaces: string[]
  /** keys sampled over all tables */
  keys: number
  maxTables: number
  /** queries per second at most, on each side */
  ratePerS: number
  /** keys written at or after this time (microseconds since the epoch) need not be in the new DC yet */
  sinceMicros: bigint
  log?: (line: string) => void
  sleep?: (ms: number) => Promise<void>
}

/** A query and the load account of the table it reads. */
interface Query {
  cql: string
  load: TableLoad
}

/**
 * Runs SELECTs on one pod at LOCAL_ONE, all tables together in sessions of bounded size (a session
 * costs a cqlsh start), paced to a rate; each query's rows and its share of the session's time go
 * to its table's account.
 */
class PacedReader {
  private readonly started = Date.now()
  private queries = 0
  private readonly at: CqlPod
  private readonly ratePerS: number
  private readonly sleep: (ms: number) => Promise<void>
  private readonly log?: (line: string) => void
  private fellBack = false
  constructor(at: CqlPod, ratePerS: number, sleep: (ms: number) => Promise<void>, log?: (line: string) => void) {
    this.at = at
    this.ratePerS = ratePerS
    this.sleep = sleep
    this.log = log
  }

  async read(queries: Query[]): Promise<KeyRow[][]> {
    const out: KeyRow[][] = []
    // one session carries about ten seconds' worth of queries (a session costs an interpreter start
    // and a TLS connection, ~1 s): the driver paces them inside it
    const size = Math.max(1, Math.min(2000, Math.round(this.ratePerS * 10)))
    for (let i = 0; i < queries.length; i += size) {
      const chunk = queries.slice(i, i + size)
      const t = Date.now()
      const { result, via } = await this.at.cql.session(this.at.pod, ['CONSISTENCY LOCAL_ONE', ...chunk.map((q) => q.cql)], { timeoutMs: 120_000 + chunk.length * 1000, quiet: true, driver: true, ratePerS: this.ratePerS })
      if (via !== 'driver' && !this.fellBack) {
        this.fellBack = true
        this.log?.(`spot check: cqlsh's driver could not be used in pod ${this.at.pod}: cqlsh -f runs the queries (slower, same results)`)
      }
      const blocks = resultBlocks(result.stdout, chunk.length)
      if (!blocks) throw new ActionError(`spot check: cqlsh in pod ${this.at.pod} printed ${chunk.length} results in a form that could not be read:\n${result.stdout.split('\n').slice(0, 12).join('\n')}`)
      const share = (Date.now() - t) / chunk.length
      chunk.forEach((q, k) => {
        q.load.queries++
        q.load.rows += blocks[k].length
        q.load.ms += share
      })
      out.push(...blocks)
      this.queries += chunk.length
      const due = (this.queries / this.ratePerS) * 1000 - (Date.now() - this.started)
      if (due > 0) await this.sleep(due)
    }
    return out
  }
}

const columnsQuery = (keyspaces: string[]): string =>
  `SELECT JSON keyspace_name, table_name, column_name, kind, position, type FROM system_schema.columns WHERE keyspace_name IN (${keyspaces.map((k) => `'${k.replace(/'/g, "''")}'`).join(', ')})`

/** The plan for the tables of these keyspaces, from the schema the source pod reads. */
export async function planSpotCheck(o: Pick<SpotCheckOptions, 'source' | 'keyspaces' | 'keys' | 'maxTables'>): Promise<TablePlan[]> {
  if (!o.keyspaces.length) return []
  const columns = await o.source.cql.selectJson<ColumnRow>(o.source.pod, columnsQuery(o.keyspaces), { quiet: true })
  const tables = [...new Map(columns.map((c) => [`${c.keyspace_name}.${c.table_name}`, { keyspace: c.keyspace_name, table: c.table_name }])).values()]
  return samplePlan(tableShapes(tables, columns), { keys: o.keys, tables: o.maxTables })
}

export async function spotCheck(o: SpotCheckOptions): Promise<TableResult[]> {
  const sleep = o.sleep ?? realSleep
  const source = new PacedReader(o.source, o.ratePerS, sleep, o.log)
  const target = new PacedReader(o.target, o.ratePerS, sleep, o.log)
  const plan = await planSpotCheck(o)
  const results: TableResult[] = plan.map((p) => ({ table: `${p.table.keyspace}.${p.table.table}`, sampled: 0, found: 0, missing: 0, newer: 0, gone: 0, missingTokens: [], source: { queries: 0, rows: 0, ms: 0 }, target: { queries: 0, rows: 0, ms: 0 } }))
  // 1. sample in the source DC, every table in the same sessions
  const slices = plan.flatMap((p, t) => sampleStatements(p).map((cql) => ({ cql, load: results[t].source, t })))
  const sampledRows = await source.read(slices)
  const sampled: { t: number; k: KeyRow }[] = []
  plan.forEach((p, t) => {
    // a key seen in two slices (a small table) counts once
    const seen = new Map<string, KeyRow>()
    slices.forEach((q, i) => q.t === t && sampledRows[i].forEach((k) => seen.set(`${k.token} ${k.key}`, k)))
    for (const k of [...seen.values()].slice(0, p.keys)) sampled.push({ t, k })
    results[t].sampled = Math.min(seen.size, p.keys)
  })
  // 2. look each one up in the new DC
  const found = await target.read(sampled.map(({ t, k }) => ({ cql: lookupStatement(plan[t].table, k.token), load: results[t].target })))
  const absent = sampled.filter(({ k }, i) => !found[i].some((x) => x.key === k.key))
  for (const r of results) r.found = r.sampled
  for (const { t } of absent) results[t].found--
  // 3. what the source says now about the absent ones
  const now = await source.read(absent.map(({ t, k }) => ({ cql: lookupStatement(plan[t].table, k.token, true), load: results[t].source })))
  absent.forEach(({ t, k }, i) => {
    const r = results[t]
    const v = judgeMissing(k, now[i], o.sinceMicros)
    r[v]++
    if (v === 'missing' && r.missingTokens.length < 5) r.missingTokens.push(k.token)
  })
  for (const r of results) {
    r.source.ms = Math.round(r.source.ms)
    r.target.ms = Math.round(r.target.ms)
    o.log?.(`spot check ${r.table}: ${r.sampled} key(s) sampled, ${r.found} found in the new DC${r.newer + r.gone ? `, ${r.newer} newer than this run, ${r.gone} expired or deleted since` : ''}${r.missing ? `, ${r.missing} MISSING` : ''}`)
  }
  return results
}

export function spotCheckError(results: TableResult[], sourceDc: string, targetDc: string, targetPod: string): ActionError | undefined {
  const bad = results.filter((r) => r.missing > 0)
  if (!bad.length) return undefined
  return new ActionError(
    `spot check failed: keys that exist in ${sourceDc} and were written before this run are missing in ${targetDc} (read at LOCAL_ONE through ${targetPod}): ${bad
      .slice(0, 10)
      .map((r) => `${r.table} ${r.missing} of ${r.sampled} (tokens ${r.missingTokens.join(', ')})`)
      .join('; ')}`,
    'a node was rebuilt before its keyspace replicated to the new DC, or with keyspaces left out: run rebuild-dc again for those keyspaces (keyspaces input), or repair: true'
  )
}
