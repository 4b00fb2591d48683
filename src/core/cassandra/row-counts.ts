// Row counts per table at LOCAL_ONE through one coordinator, all in one cqlsh session: the
// decommission safety check compares what a DC to be removed holds with what each remaining DC
// holds (the rebuild's spot check samples keys instead: it runs while traffic writes).
import { type Cqlsh, cqlIdent } from './cqlsh.ts'
import type { TableRef } from './spot-check-plan.ts'

export type { TableRef }

/** The statements of one counting session: LOCAL_ONE, then one aliased COUNT per table. */
export function countStatements(tables: TableRef[]): string[] {
  return ['CONSISTENCY LOCAL_ONE', ...tables.map((t, i) => `SELECT JSON COUNT(*) AS n${i} FROM ${cqlIdent(t.keyspace)}.${cqlIdent(t.table)}`)]
}

/** Counts by table index from the session's output (each row `{"n<i>": <count>}`). */
export function parseCounts(stdout: string, n: number): (number | undefined)[] {
  const out: (number | undefined)[] = Array.from({ length: n }, () => undefined)
  // several SELECTs in one session: every `{...}` line is one row
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
