// Bench data that makes streaming realistic (bench/rebuild.ts, bench/promotion.ts): rows of
// random bytes loaded with one cqlsh COPY FROM, and a cap on the source nodes' streaming (a WAN
// link between regions) so that the transfer, not the fixed costs around it, is what a run measures.
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CassandraCluster } from '../sandbox/cassandra/cluster.ts'

// base64 of random bytes: about 2.7 KiB per row, hardly compressible
export const ROW_BYTES = 2048

/** Loads `rows` rows into `table` (columns `id int PRIMARY KEY, v text`, created by the caller) through `node`. */
export async function loadPayload(cluster: CassandraCluster, node: string, o: { table: string; rows: number; dir: string }): Promise<void> {
  const csv = join(o.dir, 'rows.csv')
  const lines: string[] = []
  for (let i = 0; i < o.rows; i++) lines.push(`${i},${randomBytes(ROW_BYTES).toString('base64')}`)
  writeFileSync(csv, lines.join('\n') + '\n')
  await cluster.cql(node, [`COPY ${o.table} (id, v) FROM '${csv}' WITH MAXBATCHSIZE = 20 AND NUMPROCESSES = 2`], { timeoutMs: 1_800_000 })
}

/** MiB on disk of one table on `node` (`nodetool tablestats`, Space used (total)). */
export async function tableMiB(cluster: CassandraCluster, node: string, table: string): Promise<number> {
  const out = (await cluster.nodetool(node, ['tablestats', table])).stdout
  return Number(/Space used \(total\): (\d+)/.exec(out)?.[1] ?? 0) / 2 ** 20
}

/**
 * Caps each node's outbound streaming at `mbit` Mbit/s (inter-DC and overall). Whole-SSTable
 * streaming, used when the receiver owns every range of an SSTable, has its own cap (-e, whole
 * MiB/s, at least 1): set to mbit / 8 rounded. 0 leaves both alone.
 */
export async function capStreaming(cluster: CassandraCluster, nodes: string[], mbit: number): Promise<void> {
  if (mbit <= 0) return
  for (const n of nodes) {
    for (const cmd of ['setinterdcstreamthroughput', 'setstreamthroughput']) {
      await cluster.nodetool(n, [cmd, String(mbit)])
      await cluster.nodetool(n, [cmd, '-e', String(Math.max(1, Math.round(mbit / 8)))])
    }
  }
}
