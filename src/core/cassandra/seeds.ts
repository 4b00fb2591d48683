// Choosing the multi-region seed hosts of a new region among the source region's Cassandra pods
// (configure-seed-host uses them; the root preflight shows the candidates). Pure functions.
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
  const racks = [...new Set(candidates.map((c) => c.rack))].sort()
  const queues = racks.map((r) => candidates.filter((c) => c.rack === r))
  const out: Seed[] = []
  for (let round = 0; out.length < count && queues.some((q) => q.length > round); round++) {
    for (const q of queues) if (q[round] && out.length < count) out.push(q[round])
  }
  return out
}
