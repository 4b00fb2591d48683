// Seed data shaped like the reference case: the runtime's keyspaces cache_<org>_hybrid,
// kms_<org>_hybrid, kvm_<org>_hybrid, quota_<org>_hybrid and perses, NetworkTopologyStrategy on
// the source DC, each with tables of a known number of rows (so tests can compare counts after
// a rebuild). Loaded through one cqlsh session (unlogged batches), not a process per row.
import { CassandraError, type CassandraCluster } from './cluster.ts'

export interface SeedTable {
  keyspace: string
  table: string
}

export function seedKeyspaces(org: string): string[] {
  if (!/^[a-z0-9_]+$/.test(org)) throw new CassandraError(`org '${org}' must be lower-case letters, digits or _ (it is part of keyspace names)`)
  return [`cache_${org}_hybrid`, `kms_${org}_hybrid`, `kvm_${org}_hybrid`, `quota_${org}_hybrid`, 'perses']
}

/** Tables per keyspace (names after the vendor's, columns simplified). */
export function seedTables(org: string): SeedTable[] {
  const [cache, kms, kvm, quota, perses] = seedKeyspaces(org)
  return [
    { keyspace: cache, table: 'cache_entries' },
    { keyspace: kms, table: 'apps' },
    { keyspace: kms, table: 'developers' },
    { keyspace: kvm, table: 'kvm_map_entry' },
    { keyspace: quota, table: 'quota_bucket' },
    { keyspace: perses, table: 'events' }
  ]
}

const BATCH = 25

/** Primary key of row i of a seed table. */
export function seedRowId(t: SeedTable, i: number): string {
  return `${t.table}-${String(i).padStart(6, '0')}`
}

export interface SeedOptions {
  org?: string
  /** The source DC and its replication factor (default: number of its nodes, at most 3). */
  dc?: string
  rf?: number
  rowsPerTable?: number
}

export interface SeedResult {
  org: string
  dc: string
  rf: number
  rowsPerTable: number
  tables: SeedTable[]
  ms: number
}

/** Creates the keyspaces and tables (idempotent) and loads rowsPerTable rows into each table. */
export async function seedData(cluster: CassandraCluster, o: SeedOptions = {}): Promise<SeedResult> {
  const t0 = Date.now()
  const org = o.org ?? 'example'
  const dc = o.dc ?? 'dc-1'
  const rows = o.rowsPerTable ?? Number(process.env.SANDBOX_SEED_ROWS ?? 200)
  const nodes = cluster.nodes().filter((n) => n.datacenter === dc && cluster.running(n.name))
  if (!nodes.length) throw new CassandraError(`no running node in ${dc} to seed`)
  const rf = o.rf ?? Math.min(3, nodes.length)
  const tables = seedTables(org)
  const stmts: string[] = ['CONSISTENCY LOCAL_QUORUM']
  for (const ks of seedKeyspaces(org)) {
    stmts.push(`CREATE KEYSPACE IF NOT EXISTS ${ks} WITH replication = {'class': 'NetworkTopologyStrategy', '${dc}': ${rf}}`)
  }
  for (const t of tables) stmts.push(`CREATE TABLE IF NOT EXISTS ${t.keyspace}.${t.table} (id text PRIMARY KEY, payload text, n int)`)
  for (const t of tables) {
    // unlogged batches of BATCH rows: one cqlsh statement each, well under the batch size limits
    for (let b = 0; b < rows; b += BATCH) {
      const inserts: string[] = []
      for (let i = b; i < Math.min(rows, b + BATCH); i++) {
        inserts.push(`INSERT INTO ${t.keyspace}.${t.table} (id, payload, n) VALUES ('${seedRowId(t, i)}', '${t.keyspace} row ${i} ${'x'.repeat(40)}', ${i})`)
      }
      stmts.push(`BEGIN UNLOGGED BATCH ${inserts.join('; ')}; APPLY BATCH`)
    }
  }
  await cluster.cql(nodes[0].name, stmts, { timeoutMs: 600000 })
  cluster.setState({ seeded: { org, rowsPerTable: rows, dc } })
  return { org, dc, rf, rowsPerTable: rows, tables, ms: Date.now() - t0 }
}

/**
 * Row count of every seed table as seen through `node` at the given consistency (LOCAL_ONE on a
 * node of the new DC shows what that DC holds locally).
 */
export async function rowCounts(cluster: CassandraCluster, node: string, org = 'example', consistency = 'LOCAL_ONE'): Promise<Record<string, number>> {
  const tables = seedTables(org)
  const r = await cluster.cql(node, [`CONSISTENCY ${consistency}`, ...tables.map((t) => `SELECT JSON COUNT(*) AS rows FROM ${t.keyspace}.${t.table}`)], { timeoutMs: 300000 })
  const counts = [...r.stdout.matchAll(/\{"rows":\s*(\d+)\}/g)].map((m) => Number(m[1]))
  if (counts.length !== tables.length) throw new CassandraError(`expected ${tables.length} counts from cqlsh, got ${counts.length}:\n${r.stdout}`)
  const out: Record<string, number> = {}
  tables.forEach((t, i) => (out[`${t.keyspace}.${t.table}`] = counts[i]))
  return out
}
