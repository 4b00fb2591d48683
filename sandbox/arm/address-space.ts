// Address prefixes as the ARM double checks them (server.ts): VNet address spaces that overlap
// (peering refused) and security rules that mix IPv4 and IPv6 prefixes (rule refused).
import { Address4, Address6 } from 'ip-address'

// Both address families, as Azure's dual-stack VNets have them; prefixes of different families never overlap.
const ipOf = (c: string): Address4 | Address6 => (Address4.isValid(c) ? new Address4(c) : new Address6(c))

export function overlapping(a: string[], b: string[]): string | undefined {
  for (const x of a) {
    for (const y of b) {
      const p = ipOf(x)
      const q = ipOf(y)
      if (p.constructor === q.constructor && p._startAddress() <= q._endAddress() && q._startAddress() <= p._endAddress()) return `${x} and ${y}`
    }
  }
  return undefined
}

/** Azure refuses a security rule whose address prefixes mix IPv4 and IPv6. */
export function mixedFamilies(p: Record<string, unknown>): boolean {
  const all = ['sourceAddressPrefix', 'destinationAddressPrefix', 'sourceAddressPrefixes', 'destinationAddressPrefixes'].flatMap((k) => (p[k] === undefined ? [] : ([] as unknown[]).concat(p[k]))).map(String)
  const fams = new Set(all.filter((c) => Address4.isValid(c) || Address6.isValid(c)).map((c) => (Address4.isValid(c) ? 4 : 6)))
  return fams.size > 1
}
