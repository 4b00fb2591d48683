// Choosing the multi-region seed hosts of a new region among the source region's Cassandra pods,
// and among the ring's nodes of the other existing datacenters (configure-seed-host uses them; the
// root preflight shows the source's candidates). Pure functions.
import type { PodInfo } from '../kube/kubectl.ts'
import type { RingNode } from './status.ts'

export interface Seed {
  pod: string
  ip: string
  rack: string
}

/** The address other regions reach a pod at: the node's IP with hostNetwork, else the pod IP. */
export function addressOf(p: PodInfo, hostNetwork: boolean): string | undefined {
  return hostNetwork || p.hostNetwork ? (p.hostIP ?? p.podIP) : p.podIP
}

/**
 * Up to `count` ready pods whose node is UN in the ring, spread over racks: one per rack in
 * rack order, then a second per rack, ... (pods in statefulset order within a rack).
 */
export function pickSeeds(pods: PodInfo[], ring: RingNode[], count: number, hostNetwork: boolean): Seed[] {
  const byAddr = new Map(ring.map((n) => [n.address, n]))
  const candidates: Seed[] = []
  for (const p of pods) {
    if (!p.ready) continue
    const ip = addressOf(p, hostNetwork)
    if (!ip) continue
    const node = byAddr.get(ip) ?? (p.podIP ? byAddr.get(p.podIP) : undefined)
    if (ring.length && (!node || node.status !== 'U' || node.state !== 'N')) continue
    candidates.push({ pod: p.name, ip, rack: node?.rack ?? p.labels['topology.kubernetes.io/zone'] ?? '' })
  }
  return spreadOverRacks(candidates, count)
}

/** Up to `count` candidates, one per rack in rack order, then a second per rack, ... (input order within a rack). */
function spreadOverRacks(candidates: Seed[], count: number): Seed[] {
  const racks = [...new Set(candidates.map((c) => c.rack))].sort()
  const queues = racks.map((r) => candidates.filter((c) => c.rack === r))
  const out: Seed[] = []
  for (let round = 0; out.length < count && queues.some((q) => q.length > round); round++) {
    for (const q of queues) if (q[round] && out.length < count) out.push(q[round])
  }
  return out
}

/**
 * Seeds from the other existing datacenters (a third region's seeds come from both regions, so it
 * joins while either one is down): up to `count` UN nodes of each datacenter in `dcs`, from the
 * ring (with hostNetwork a node's ring address is its node IP, what the new region dials), spread
 * over racks, in address order within a rack. No pod: another region's cluster is not read.
 */
export function pickRingSeeds(ring: RingNode[], dcs: string[], count: number): Seed[] {
  const num = (a: string): number[] => a.split(/[.:]/).map((x) => parseInt(x, a.includes(':') ? 16 : 10) || 0)
  const byAddress = (a: RingNode, b: RingNode): number => {
    const [x, y] = [num(a.address), num(b.address)]
    for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0)
    return 0
  }
  return dcs.flatMap((dc) =>
    spreadOverRacks(
      ring
        .filter((n) => n.datacenter === dc && n.status === 'U' && n.state === 'N')
        .sort(byAddress)
        .map((n) => ({ pod: `(${dc})`, ip: n.address, rack: n.rack })),
      count
    )
  )
}
