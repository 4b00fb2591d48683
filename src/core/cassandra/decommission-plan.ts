// Taking a datacenter's nodes out of the ring (procedure G.3). Pure: from the ring as a surviving
// node sees it, the retiring region's pods and the keyspaces, to one step per node in order
// (highest ordinal first) or a refusal. What a node needs follows from its state, so a re-run
// after a kill or a cancel picks up where the last one stopped:
//   UN with a pod  -> decommission (`nodetool decommission` in that pod)
//   UL             -> wait (a decommission is under way; it continues inside Cassandra)
//   DN, or no pod  -> removenode (`nodetool removenode <host id>` from a surviving node)
//   not in ring    -> done
import { PreflightError, type ActionError } from '../errors.ts'
import { rfOf, type Keyspace } from './keyspaces.ts'
import type { RingNode } from './status.ts'

export type StepKind = 'decommission' | 'wait' | 'removenode'

export interface PodRef {
  name: string
  address?: string
}

export interface DecommissionStep {
  kind: StepKind
  address: string
  hostId: string
  pod?: string
  why: string
}

const ordinal = (pod: string | undefined): number => {
  const m = /-(\d+)$/.exec(pod ?? '')
  return m ? Number(m[1]) : -1
}

/** The steps for the retiring DC's nodes, highest pod ordinal first (the StatefulSet's scale-down order). */
export function decommissionSteps(ring: RingNode[], dc: string, pods: PodRef[], o: { uninstalled?: boolean } = {}): DecommissionStep[] {
  const steps: DecommissionStep[] = ring
    .filter((n) => n.datacenter === dc)
    .map((n) => {
      const pod = pods.find((p) => p.address === n.address)?.name
      const base = { address: n.address, hostId: n.hostId, pod }
      if (n.state === 'L') return { ...base, kind: 'wait' as const, why: 'leaving (a decommission is under way)' }
      if (n.status === 'D' || !pod || o.uninstalled) return { ...base, kind: 'removenode' as const, why: n.status === 'D' ? 'down: its data is re-replicated from the survivors' : o.uninstalled ? 'uninstalled' : 'no pod for it' }
      return { ...base, kind: 'decommission' as const, why: 'up: streams its ranges away, then leaves' }
    })
  return steps.sort((a, b) => ordinal(b.pod) - ordinal(a.pod) || b.address.localeCompare(a.address))
}

/**
 * Refusals before any node leaves: the DC must exist among the survivors' view unless it is gone
 * already, the survivors must be healthy, and no keyspace but system_auth may still replicate to
 * the DC (decommission would stream its data inside the DC and the last node could not leave).
 */
export function decommissionGates(ring: RingNode[], keyspaces: Keyspace[], dc: string, survivorDc: string): ActionError[] {
  const errs: ActionError[] = []
  const dcs = [...new Set(ring.map((n) => n.datacenter))]
  if (!dcs.includes(survivorDc)) {
    errs.push(new PreflightError(`datacenter '${survivorDc}' (source-datacenter, the one that stays) is not in the ring; datacenters: ${dcs.join(', ')}`, "check input 'source-datacenter' (exact case) and the source context"))
    return errs
  }
  if (dc === survivorDc) errs.push(new PreflightError(`source and target datacenter are both '${dc}'`, 'target-datacenter is the datacenter to retire; source-datacenter one that stays'))
  const survivors = ring.filter((n) => n.datacenter !== dc)
  const bad = survivors.filter((n) => n.status !== 'U' || n.state !== 'N')
  if (bad.length) {
    errs.push(new PreflightError(`surviving nodes are not all UN: ${bad.map((n) => `${n.address} (${n.datacenter}, ${n.status}${n.state})`).join(', ')}`, 'bring every surviving node back to UN (nodetool status) before nodes leave the ring'))
  }
  const still = keyspaces.filter((k) => k.name !== 'system_auth' && k.strategy === 'NetworkTopologyStrategy' && (rfOf(k.options[dc]) ?? 0) > 0).map((k) => k.name)
  if (still.length) {
    errs.push(
      new PreflightError(
        `keyspace(s) ${still.join(', ')} still replicate to '${dc}': its nodes would stream that data among themselves and the last one could not leave`,
        `take '${dc}' out of their replication first: expand-keyspaces mode: remove, target-datacenter: ${dc} (the replicate-away stage)`
      )
    )
  }
  return errs
}
