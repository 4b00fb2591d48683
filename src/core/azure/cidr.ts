// Address-space arithmetic for peering, for both address families (Azure VNets may be dual-stack:
// an IPv4 and an IPv6 prefix). Two VNets can only be peered when no prefix of one overlaps a
// prefix of the other; prefixes of different families never overlap.
import { Address4, Address6 } from 'ip-address'
import { PreflightError } from '../errors.ts'

export type Family = 4 | 6

export interface Range {
  cidr: string
  family: Family
  start: bigint
  end: bigint
}

function parse(cidr: string): Address4 | Address6 {
  const s = cidr.trim()
  if (Address4.isValid(s)) return new Address4(s)
  if (Address6.isValid(s)) return new Address6(s)
  throw new PreflightError(`'${cidr}' is not an IPv4 or IPv6 prefix in CIDR notation`, 'write address prefixes as 10.1.0.0/16 or fd00:db8:1::/48')
}

/** 4 or 6 for a prefix (or a bare address). */
export function family(cidr: string): Family {
  return parse(cidr) instanceof Address4 ? 4 : 6
}

/** True for an IPv4 or IPv6 prefix or address (false for service tags such as VirtualNetwork or '*'). */
export function isIpPrefix(s: string): boolean {
  return Address4.isValid(s.trim()) || Address6.isValid(s.trim())
}

export function range(cidr: string): Range {
  const a = parse(cidr)
  return { cidr, family: a instanceof Address4 ? 4 : 6, start: a._startAddress(), end: a._endAddress() }
}

export function overlaps(a: string, b: string): boolean {
  const p = range(a)
  const q = range(b)
  return p.family === q.family && p.start <= q.end && q.start <= p.end
}

/** Every overlapping pair, [prefix of a, prefix of b]. */
export function overlapPairs(a: readonly string[], b: readonly string[]): [string, string][] {
  const out: [string, string][] = []
  for (const x of a) for (const y of b) if (overlaps(x, y)) out.push([x, y])
  return out
}

/** The prefixes of one family, in their given order. */
export function ofFamily(list: readonly string[], f: Family): string[] {
  return list.filter((c) => family(c) === f)
}

/** The canonical form of a prefix list (network address, sorted, unique) for comparisons. */
export function normalizePrefixes(list: readonly string[]): string[] {
  const out = new Set<string>()
  for (const c of list) {
    const a = parse(c)
    out.add(`${a.startAddress().correctForm()}/${a.subnetMask}`)
  }
  return [...out].sort()
}

export function samePrefixes(a: readonly string[], b: readonly string[]): boolean {
  const x = normalizePrefixes(a)
  const y = normalizePrefixes(b)
  return x.length === y.length && x.every((v, i) => v === y[i])
}
