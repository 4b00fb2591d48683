// Cassandra's own record of what a node has streamed: system.available_ranges_v2 (node-local;
// written when a bootstrap/rebuild stream session completes, read by the next rebuild to skip
// or refuse ranges). Compared with the ranges the node replicates (`nodetool describering`), it
// says whether a node is already rebuilt even when no state of ours survives (pod restarted,
// rebuilt by hand). Pure parsers and the comparison; the action does the reads.

/** One token range (start, end] as printed by nodetool (decimal tokens for Murmur3). */
export interface TokenRange {
  start: string
  end: string
}

export interface RingRange extends TokenRange {
  endpoints: string[]
}

const rangeKey = (r: TokenRange): string => `(${r.start},${r.end}]`

/**
 * Decodes one element of available_ranges_v2.full_ranges: a serialized Range<Token>, printed by
 * cqlsh as 0x + hex: int32 (0), int32 length + left token bytes, int32 length + right token bytes.
 * Murmur3 tokens (8 bytes) become signed decimals, as nodetool prints them; other token types
 * stay hex (they then match nothing and the evidence is simply "unknown").
 */
export function decodeRangeBlob(hex: string): TokenRange | undefined {
  const h = hex.replace(/^0x/i, '')
  if (!/^[0-9a-f]*$/i.test(h) || h.length % 2) return undefined
  const b = Buffer.from(h, 'hex')
  if (b.length < 12) return undefined
  let at = 4
  const token = (): string | undefined => {
    if (at + 4 > b.length) return undefined
    const len = b.readInt32BE(at)
    at += 4
    if (len < 0 || at + len > b.length) return undefined
    const t = b.subarray(at, at + len)
    at += len
    return len === 8 ? t.readBigInt64BE(0).toString() : `0x${t.toString('hex')}`
  }
  const start = token()
  const end = token()
  if (start === undefined || end === undefined || at !== b.length) return undefined
  return { start, end }
}

/** Rows of `SELECT JSON keyspace_name, full_ranges FROM system.available_ranges_v2` -> keyspace -> range keys. */
export function availableRanges(rows: { keyspace_name: string; full_ranges?: string[] | null }[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>()
  for (const r of rows) {
    const set = out.get(r.keyspace_name) ?? new Set<string>()
    for (const blob of r.full_ranges ?? []) {
      const range = decodeRangeBlob(blob)
      if (range) set.add(rangeKey(range))
    }
    out.set(r.keyspace_name, set)
  }
  return out
}

/** `nodetool describering <ks>`: the TokenRange(...) lines with their replica endpoints. */
export function parseDescribeRing(text: string): RingRange[] {
  const out: RingRange[] = []
  const re = /TokenRange\(start_token:\s*([^,\s]+),\s*end_token:\s*([^,\s]+),\s*endpoints:\[([^\]]*)\]/g
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) {
    out.push({
      start: m[1],
      end: m[2],
      endpoints: m[3]
        .split(',')
        .map((e) => e.trim().replace(/^\//, '').replace(/:\d+$/, ''))
        .filter(Boolean)
    })
  }
  return out
}

export type Coverage = 'complete' | 'partial' | 'none' | 'unknown'

export interface KeyspaceCoverage {
  keyspace: string
  needed: number
  available: number
}

/**
 * How much of what `address` replicates is recorded as available, per keyspace, and overall:
 * complete (every needed range of every keyspace), none (nothing), partial (anything between),
 * unknown (no ring information).
 */
export function coverage(address: string, rings: Map<string, RingRange[]>, available: Map<string, Set<string>>): { overall: Coverage; keyspaces: KeyspaceCoverage[] } {
  const keyspaces: KeyspaceCoverage[] = []
  for (const [ks, ranges] of rings) {
    const needed = ranges.filter((r) => r.endpoints.includes(address))
    const have = available.get(ks) ?? new Set<string>()
    keyspaces.push({ keyspace: ks, needed: needed.length, available: needed.filter((r) => have.has(rangeKey(r))).length })
  }
  const relevant = keyspaces.filter((k) => k.needed > 0)
  if (!relevant.length) return { overall: 'unknown', keyspaces }
  if (relevant.every((k) => k.available === k.needed)) return { overall: 'complete', keyspaces }
  if (relevant.every((k) => k.available === 0)) return { overall: 'none', keyspaces }
  return { overall: 'partial', keyspaces }
}
