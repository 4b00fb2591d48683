// Verification after a rebuild: per-node load of the new DC against the source DC from
// `nodetool status`, and the tables the row-level spot check samples (spot-check.ts). Also the
// pre-rebuild gate that the keyspaces replicate to both DCs (a rebuild before expand-keyspaces
// streams nothing and "succeeds").
import type { Cqlsh } from './cqlsh.ts'
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
