// Parsers for the documented text formats of `nodetool status` and `nodetool describecluster`
// (Cassandra 4.x / 5.0), tested on captured real output.

export interface RingNode {
  datacenter: string
  /** U or D */
  status: 'U' | 'D'
  /** N(ormal), L(eaving), J(oining), M(oving) */
  state: 'N' | 'L' | 'J' | 'M'
  address: string
  /** Load as printed ("109.6 KiB"), undefined when "?" */
  load?: string
  loadBytes?: number
  tokens?: number
  owns?: string
  hostId: string
  rack: string
}

const UNITS: Record<string, number> = { bytes: 1, B: 1, KB: 1024, KiB: 1024, MB: 1024 ** 2, MiB: 1024 ** 2, GB: 1024 ** 3, GiB: 1024 ** 3, TB: 1024 ** 4, TiB: 1024 ** 4 }

/** "109.6 KiB" -> bytes; undefined when not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^([\d.,]+)\s*([A-Za-z]+)$/.exec(text.trim())
  if (!m || UNITS[m[2]] === undefined) return undefined
  const n = Number(m[1].replace(/,/g, ''))
  return Number.isFinite(n) ? Math.round(n * UNITS[m[2]]) : undefined
}

const NODE_LINE =
  /^([UD])([NLJM])\s+(\S+)\s+(\?|[\d.,]+\s*[A-Za-z]+)\s+(\d+|\?)\s+(\S+)\s+([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\s+(.*?)\s*$/

export function parseStatus(text: string): RingNode[] {
  const nodes: RingNode[] = []
  let dc = ''
  for (const line of text.split('\n')) {
    const d = /^Datacenter:\s*(.*?)\s*$/.exec(line)
    if (d) {
      dc = d[1]
      continue
    }
    const m = NODE_LINE.exec(line)
    if (!m) continue
    const load = m[4] === '?' ? undefined : m[4]
    nodes.push({
      datacenter: dc,
      status: m[1] as 'U' | 'D',
      state: m[2] as RingNode['state'],
      address: m[3],
      load,
      loadBytes: load ? parseSize(load) : undefined,
      tokens: m[5] === '?' ? undefined : Number(m[5]),
      owns: m[6],
      hostId: m[7],
      rack: m[8]
    })
  }
  if (nodes.length === 0 && !/Datacenter:/.test(text)) {
    throw new Error(`not nodetool status output: ${text.trim().split('\n')[0] ?? '(empty)'}`)
  }
  return nodes
}

export interface ClusterDescription {
  name?: string
  snitch?: string
  partitioner?: string
  /** schema version -> endpoints; the key 'UNREACHABLE' lists nodes whose version is unknown. */
  schemaVersions: Record<string, string[]>
  live?: number
  unreachable?: number
  joining?: number
  moving?: number
  leaving?: number
  datacenters: Record<string, { nodes: number; down: number }>
  /** keyspace -> replication as printed ("NetworkTopologyStrategy {dc-1=3}") */
  keyspaces: Record<string, string>
}

export function parseDescribeCluster(text: string): ClusterDescription {
  const out: ClusterDescription = { schemaVersions: {}, datacenters: {}, keyspaces: {} }
  let section = ''
  let sawHeader = false
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+$/, '')
    const t = line.trim()
    if (t === '') continue
    if (/^Cluster Information:$/.test(t)) {
      sawHeader = true
      section = 'info'
      continue
    }
    if (/^Schema versions:$/.test(t)) {
      section = 'schema'
      continue
    }
    if (/^Stats for all nodes:$/.test(t)) {
      section = 'stats'
      continue
    }
    if (/^Data Centers:$/.test(t)) {
      section = 'dcs'
      continue
    }
    if (/^Database versions:$/.test(t)) {
      section = 'versions'
      continue
    }
    if (/^Keyspaces:$/.test(t)) {
      section = 'keyspaces'
      continue
    }
    let m: RegExpExecArray | null
    if (section === 'info') {
      if ((m = /^Name:\s*(.*)$/.exec(t))) out.name = m[1]
      else if ((m = /^Snitch:\s*(.*)$/.exec(t))) out.snitch = m[1]
      else if ((m = /^Partitioner:\s*(.*)$/.exec(t))) out.partitioner = m[1]
    } else if (section === 'schema') {
      if ((m = /^(\S+):\s*\[(.*)\]$/.exec(t))) {
        out.schemaVersions[m[1]] = m[2]
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      }
    } else if (section === 'stats') {
      if ((m = /^(Live|Joining|Moving|Leaving|Unreachable):\s*(\d+)$/.exec(t))) {
        const key = m[1].toLowerCase() as 'live' | 'joining' | 'moving' | 'leaving' | 'unreachable'
        out[key] = Number(m[2])
      }
    } else if (section === 'dcs') {
      if ((m = /^(.+?)\s+#Nodes:\s*(\d+)\s+#Down:\s*(\d+)$/.exec(t))) out.datacenters[m[1]] = { nodes: Number(m[2]), down: Number(m[3]) }
    } else if (section === 'keyspaces') {
      if ((m = /^(\S+)\s+->\s+Replication class:\s*(.*)$/.exec(t))) out.keyspaces[m[1]] = m[2]
    }
  }
  if (!sawHeader) throw new Error(`not nodetool describecluster output: ${text.trim().split('\n')[0] ?? '(empty)'}`)
  return out
}

/** Schema versions other than the UNREACHABLE pseudo-version. */
export function schemaVersions(d: ClusterDescription): string[] {
  return Object.keys(d.schemaVersions).filter((v) => v !== 'UNREACHABLE')
}

/**
 * Endpoints whose schema version is unknown. With `ring` (nodetool status of the same node), only
 * the ring's members count: a decommissioned node that still runs (its pod stays until the
 * region is uninstalled) is UNREACHABLE to gossip for days, but it no longer owns data or takes
 * part in schema agreement.
 */
export function unreachableNodes(d: ClusterDescription, ring?: RingNode[]): string[] {
  const all = d.schemaVersions.UNREACHABLE ?? []
  if (!ring) return all
  const members = new Set(ring.map((n) => hostOf(n.address)))
  return all.filter((a) => members.has(hostOf(a)))
}

/** '127.0.0.1', '/127.0.0.1:7000', '[::1]:7000' -> the address alone. */
function hostOf(endpoint: string): string {
  const e = endpoint.replace(/^\//, '')
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(e)
  if (v6) return v6[1]
  return /^[^:]+:\d+$/.test(e) ? e.slice(0, e.lastIndexOf(':')) : e
}
