// Pure parts of configure-seed-host: choosing seed hosts, the preflight checks, the CA fingerprint.
import { X509Certificate } from 'node:crypto'
import { ActionError } from '../../core/errors.ts'
import type { PodInfo } from '../../core/kube/kubectl.ts'
import { k8sClusterClash, type Overrides } from '../../core/overrides/overrides.ts'
import type { RingNode } from '../../core/cassandra/status.ts'
import { targetDcNodes } from '../../core/cassandra/resume.ts'

// Seed choice lives in src/core (the root preflight shows the same candidates).
export { addressOf, pickRingSeeds, pickSeeds, type Seed } from '../../core/cassandra/seeds.ts'

/**
 * The existing datacenters besides the source region's (whose nodes are the source pods) and the
 * new one: with three or more regions, the new region takes seeds from each of them too.
 */
export function otherDatacenters(ring: RingNode[], sourcePods: PodInfo[], targetDc: string): string[] {
  const podAddresses = new Set(sourcePods.flatMap((p) => [p.podIP, p.hostIP].filter((a): a is string => !!a)))
  const sourceDcs = new Set(ring.filter((n) => podAddresses.has(n.address)).map((n) => n.datacenter))
  return [...new Set(ring.map((n) => n.datacenter))].filter((dc) => dc !== targetDc && !sourceDcs.has(dc)).sort()
}

export interface PreflightInput {
  existing: Overrides[]
  target: Overrides
  /** The target overrides is a fresh copy of existing[0] (instanceID not yet changed). */
  targetIsCopy: boolean
  targetDc: string
  ring: RingNode[]
  sourcePods: PodInfo[]
  /** Cassandra pods of the new region's cluster (a resumed promotion's new datacenter). */
  targetPods?: PodInfo[]
  seedCount: number
}

/** Every problem found, each naming the file / pod / datacenter and the fix. */
export function preflight(i: PreflightInput): ActionError[] {
  const errs: ActionError[] = []
  for (const o of i.existing) {
    if (o.cassandra.hostNetwork !== true) {
      errs.push(
        new ActionError(
          `overrides ${o.path}: cassandra.hostNetwork is ${o.cassandra.hostNetwork ?? 'not set'}; every region needs hostNetwork: true (AKS island networking)`,
          `set cassandra.hostNetwork: true in ${o.path} and re-apply that region before expanding`
        )
      )
    }
  }
  const t = i.target
  const names = new Set([...i.existing, t].map((o) => o.cassandra.clusterName ?? '(unset)'))
  if (names.size > 1) {
    errs.push(
      new ActionError(
        `cassandra.clusterName differs between regions: ${[...i.existing, t].map((o) => `${o.path}: ${o.cassandra.clusterName ?? '(unset)'}`).join(', ')}`,
        'every region must use the same cassandra.clusterName'
      )
    )
  }
  const tid = t.instanceID
  if (!tid) errs.push(new ActionError(`overrides ${t.path}: instanceID is not set`, "set input 'target-instance-id' (unique per installation)"))
  for (const o of i.existing) {
    if (tid && o.instanceID === tid) {
      errs.push(
        new ActionError(
          `instanceID '${tid}' of ${t.path} is also the instanceID of ${o.path}${i.targetIsCopy ? ' (the file is a copy)' : ''}`,
          "give the new region its own instanceID with input 'target-instance-id'"
        )
      )
    }
  }
  const clash = k8sClusterClash(t, i.existing, "give the new region its own cluster with inputs 'target-k8s-cluster-name' and 'target-k8s-cluster-region' (or topology regions.<target>.k8sCluster)")
  if (clash) errs.push(clash)
  const existingDcs = i.existing.map((o) => o.cassandra.datacenter)
  if (existingDcs.includes(i.targetDc)) {
    errs.push(new ActionError(`datacenter '${i.targetDc}' is the datacenter of an existing region (${i.existing.filter((o) => o.cassandra.datacenter === i.targetDc).map((o) => o.path).join(', ')})`, 'give the new region its own datacenter name (target-datacenter)'))
  }
  // A re-run after the new region was installed finds its DC in the ring: that is fine when the
  // target overrides (not a fresh copy) already name it, or (a new run, fresh checkout) when every
  // node of that DC is a Cassandra pod of the new region's cluster.
  const rerun = !i.targetIsCopy && t.cassandra.datacenter === i.targetDc && !existingDcs.includes(i.targetDc)
  const { stale } = targetDcNodes(i.ring, i.targetDc, i.targetPods ?? [])
  const inRing = rerun ? [] : stale
  if (inRing.length) {
    errs.push(
      new ActionError(
        `datacenter '${i.targetDc}' is already in the ring (${inRing.map((n) => `${n.address} ${n.status}${n.state}`).join(', ')})`,
        'choose a new datacenter name, or decommission the stale nodes of a region deleted without decommission (nodetool removenode)'
      )
    )
  }
  const notReady = i.sourcePods.filter((p) => !p.ready)
  if (notReady.length) {
    errs.push(new ActionError(`source Cassandra pods not ready: ${notReady.map((p) => `${p.name} (${p.phase})`).join(', ')}`, 'wait until every Cassandra pod of the source region is Running and Ready'))
  }
  const down = i.ring.filter((n) => n.datacenter !== i.targetDc && (n.status !== 'U' || n.state !== 'N'))
  if (down.length) {
    errs.push(new ActionError(`nodes not UN in the existing ring: ${down.map((n) => `${n.address} (${n.datacenter}/${n.rack}, ${n.status}${n.state})`).join(', ')}`, 'bring every node back to UN before adding a region'))
  }
  return errs
}

/** SHA-256 fingerprint (of the DER) of the first certificate in a PEM, as AA:BB:... */
export function certFingerprint(pem: string, what: string): string {
  const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)
  if (!m) throw new ActionError(`${what} holds no PEM certificate`, 'the CA secret must have tls.crt (or ca.crt) with the CA certificate')
  try {
    return new X509Certificate(m[0]).fingerprint256
  } catch (e) {
    throw new ActionError(`${what}: not a readable X.509 certificate (${(e as Error).message})`)
  }
}
