// A promotion resumed by a new run finds the new datacenter already in the ring. Its nodes are
// "ours" when each is a Cassandra pod of the new region's own cluster (the install joined them with
// our overrides): the stages then do only what is left. A node of that datacenter that no pod of
// the new region accounts for is stale (an earlier region deleted without decommission, or another
// cluster using the name), and still stops the promotion.
import type { PodInfo } from '../kube/kubectl.ts'
import type { RingNode } from './status.ts'

export function targetDcNodes(ring: RingNode[], targetDc: string, targetPods: PodInfo[]): { ours: RingNode[]; stale: RingNode[] } {
  const addresses = new Set(targetPods.flatMap((p) => [p.podIP, p.hostNetwork ? p.hostIP : undefined]).filter((a): a is string => !!a))
  const inDc = ring.filter((n) => n.datacenter === targetDc)
  return { ours: inDc.filter((n) => addresses.has(n.address)), stale: inDc.filter((n) => !addresses.has(n.address)) }
}
