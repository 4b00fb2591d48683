// Verification after a rebuild: (1) per-node load of the new DC against the source DC from
// `nodetool status`; (2) a row-level spot check: COUNT(*) per table read with LOCAL_ONE on a pod
// of the new DC must equal the same count read with LOCAL_ONE on a pod of the source DC (each
// count then only sees its own DC's replicas). Also the pre-rebuild gate that the keyspaces
// replicate to both DCs (a rebuild before expand-keyspaces streams nothing and "succeeds").
import { ActionError } from '../errors.ts'
import { type Cqlsh, cqlIdent } from './cqlsh.ts'
import { KEYSPACES_QUERY, type Keyspace, type KeyspaceRow, rfOf, toKeyspaces } from './keyspaces.ts'
import { formatBytes } from './rebuild-progress.ts'
import type { RingNode } from './status.ts'

const SYSTEM_REPLICATED = ['system_auth', 'system_distributed', 'system_traces']

export const isUserKeyspace = (name: string): boolean => !name.startsWith('system') && name !== 'dse_system'

/** NTS keyspaces with an RF > 0 in `dc`. */
export const replicatesTo = (k: Keyspace, dc: string): boolean => k.strategy === 'NetworkTopologyStrategy' && (rfOf(k.options[dc]) ?? 0) > 0

/**
 * The keyspaces the rebuild covers (the `keyspaces` input, or every keyspace replicated in the
 * source DC) and the ones that do not yet replicate to the new DC (run expand-keyspaces first).
 */
export function rebuildScope(
  all: Keyspace[],
  sourceDc: string,
  targetDc: string,
  only: string[]
): { covered: Keyspace[]; missing: string[]; unknown: string[]; noSource: string[] } {
  const byName = new Map(all.map((k) => [k.name, k]))
  const unknown = only.filter((n) => !byName.has(n))
  const wanted = only.length ? only.filter((n) => byName.has(n)).map((n) => byName.get(n)!) : all.filter((k) => replicatesTo(k, sourceDc) && (isUserKeyspace(k.name) || SYSTEM_REPLICATED.includes(k.name)))
  const missing = wanted.filter((k) => !replicatesTo(k, targetDc)).map((k) => k.name)
  // Cassandra 5.0 only logs "Unable to find sufficient sources ... Keyspace might be missing data"
  // for these (RF 1) and exits 0 having streamed nothing: refuse them up front.
  const noSource = wanted.filter((k) => !replicatesTo(k, sourceDc)).map((k) => k.name)
  return { covered: wanted.filter((k) => replicatesTo(k, targetDc) && replicatesTo(k, sourceDc)), missing, unknown, noSource }
}

export async function readKeyspaces(cql: Cqlsh, pod: string): Promise<Keyspace[]> {
  return toKeyspaces(await cql.selectJson<KeyspaceRow>(pod, KEYSPACES_QUERY, { quiet: false }))
}

export interface LoadRow {
  datacenter: string
  address: string
  rack: string
  load?: number
}

export interface LoadComparison {
  rows: LoadRow[]
  source: number
  target: number
  /** target / source, undefined when the source load is 0 or unknown */
  ratio: number | undefined
}

export function compareLoad(ring: RingNode[], sourceDc: string, targetDc: string): LoadComparison {
  const rows = ring
    .filter((n) => n.datacenter === sourceDc || n.datacenter === targetDc)
    .map((n) => ({ datacenter: n.datacenter, address: n.address, rack: n.rack, load: n.loadBytes }))
  const sum = (dc: string): number => rows.filter((r) => r.datacenter === dc).reduce((s, r) => s + (r.load ?? 0), 0)
  const source = sum(sourceDc)
  const target = sum(targetDc)
  return { rows, source, target, ratio: source > 0 ? target / source : undefined }
}

export function loadSummary(c: LoadComparison, sourceDc: string, targetDc: string): string {
  const pct = c.ratio === undefined ? 'n/a' : `${(100 * c.ratio).toFixed(0)}%`
  return `load: ${targetDc} ${formatBytes(c.target)} vs ${sourceDc} ${formatBytes(c.source)} (${pct})`
}

export interface TableRef {
  keyspace: string
  table: string
}

/** The statements of one counting session: LOCAL_ONE, then one aliased COUNT per table. */
export function countStatements(tables: TableRef[]): string[] {
  return ['CONSISTENCY LOCAL_ONE', ...tables.map((t, i) => `SELECT JSON COUNT(*) AS n${i} FROM ${cqlIdent(t.keyspace)}.${cqlIdent(t.table)}`)]
}

/** Counts by table index from the session's output (each row `{"n<i>": <count>}`). */
export function parseCounts(stdout: string, n: number): (number | undefined)[] {
  const out: (number | undefined)[] = Array.from({ length: n }, () => undefined)
  // Several SELECTs in one session: every `{...}` line is one row (parseJsonRows expects one query).
  for (const line of stdout.split('\n')) {
    const t = line.trim()
    if (!t.startsWith('{')) continue
    let row: Record<string, unknown>
    try {
      row = JSON.parse(t) as Record<string, unknown>
    } catch {
      continue
    }
    for (const [k, v] of Object.entries(row)) {
      const m = /^n(\d+)$/.exec(k)
      if (m && Number(m[1]) < n && typeof v === 'number') out[Number(m[1])] = v
    }
  }
  return out
}

export async function listTables(cql: Cqlsh, pod: string, keyspaces: string[]): Promise<TableRef[]> {
  if (!keyspaces.length) return []
  const rows = await cql.selectJson<{ keyspace_name: string; table_name: string }>(
    pod,
    `SELECT JSON keyspace_name, table_name FROM system_schema.tables WHERE keyspace_name IN (${keyspaces.map((k) => `'${k.replace(/'/g, "''")}'`).join(', ')})`
  )
  return rows.map((r) => ({ keyspace: r.keyspace_name, table: r.table_name })).sort((a, b) => `${a.keyspace}.${a.table}`.localeCompare(`${b.keyspace}.${b.table}`))
}

export async function countRows(cql: Cqlsh, pod: string, tables: TableRef[], timeoutMs: number): Promise<(number | undefined)[]> {
  if (!tables.length) return []
  const { result } = await cql.session(pod, countStatements(tables), { timeoutMs })
  return parseCounts(result.stdout, tables.length)
}

export interface SpotRow {
  table: string
  source: number | undefined
  target: number | undefined
  ok: boolean
}

export function compareCounts(tables: TableRef[], source: (number | undefined)[], target: (number | undefined)[]): SpotRow[] {
  return tables.map((t, i) => ({ table: `${t.keyspace}.${t.table}`, source: source[i], target: target[i], ok: source[i] !== undefined && source[i] === target[i] }))
}

export function spotCheckError(rows: SpotRow[], sourceDc: string, targetDc: string, targetPod: string): ActionError | undefined {
  const bad = rows.filter((r) => !r.ok)
  if (!bad.length) return undefined
  return new ActionError(
    `spot check failed: ${bad.length} table(s) differ between ${sourceDc} and ${targetDc} at LOCAL_ONE (read on ${targetPod}): ${bad
      .slice(0, 10)
      .map((r) => `${r.table} ${r.source ?? '?'} vs ${r.target ?? '?'}`)
      .join(', ')}`,
    'a node may have been rebuilt before its keyspace replicated to the new DC, or writes are still arriving: re-run with repair: true, or rebuild the affected nodes again'
  )
}
