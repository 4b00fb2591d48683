// Address-space arithmetic for peering: two VNets can only be peered when no prefix of one
// overlaps a prefix of the other.
import { Address4 } from 'ip-address'

export interface Range {
  cidr: string
  start: bigint
  end: bigint
}

export function range(cidr: string): Range {
  const a = new Address4(cidr)
  return { cidr, start: a._startAddress(), end: a._endAddress() }
}

export function overlaps(a: string, b: string): boolean {
  const p = range(a)
  const q = range(b)
  return p.start <= q.end && q.start <= p.end
}

/** Every overlapping pair, [prefix of a, prefix of b]. */
export function overlapPairs(a: readonly string[], b: readonly string[]): [string, string][] {
  const out: [string, string][] = []
  for (const x of a) for (const y of b) if (overlaps(x, y)) out.push([x, y])
  return out
}

/** The canonical form of a prefix list (network address, sorted, unique) for comparisons. */
export function normalizePrefixes(list: readonly string[]): string[] {
  const out = new Set<string>()
  for (const c of list) {
    const a = new Address4(c)
    out.add(`${a.startAddress().correctForm()}/${a.subnetMask}`)
  }
  return [...out].sort()
}

export function samePrefixes(a: readonly string[], b: readonly string[]): boolean {
  const x = normalizePrefixes(a)
  const y = normalizePrefixes(b)
  return x.length === y.length && x.every((v, i) => v === y[i])
}
