// The pure half of rebuild-dc: which nodes, in which order (lanes), and what to do with each
// node given what the pod and Cassandra say (resume decisions). No I/O here.
import { ActionError } from '../errors.ts'
import { sortPods } from '../kube/kubectl.ts'
import type { Coverage } from './rebuild-ranges.ts'
import type { RingNode } from './status.ts'

/** A node of the new DC together with the pod that runs it. */
export interface TargetNode {
  pod: string
  address: string
  /** Cassandra's host ID: keys the run's state in the pod, so a replaced node is rebuilt again. */
  hostId: string
  rack: string
  datacenter: string
  up: boolean
  state: RingNode['state']
}

/** What one rebuild is: the source DC and the nodetool rebuild options (`-ks`). */
export interface RebuildRequest {
  sourceDc: string
  keyspaces: string[]
}

/** The identity of a request as recorded next to a run in the pod ("dc-1" or "dc-1 -ks a,b"). */
export function requestKey(r: RebuildRequest): string {
  return r.keyspaces.length ? `${r.sourceDc} -ks ${r.keyspaces.join(',')}` : r.sourceDc
}

/** The arguments after `nodetool ... rebuild`. The DC comes after `--` so it is never an option. */
export function rebuildArgs(r: RebuildRequest): string[] {
  return [...(r.keyspaces.length ? ['-ks', r.keyspaces.join(',')] : []), '--', r.sourceDc]
}

/** A run of the rebuild wrapper as recorded in the pod's state dir. */
export type PodRun =
  | { kind: 'none' }
  | { kind: 'running'; what: string; pid: number; startedAt?: number }
  | { kind: 'exited'; what: string; rc: number; startedAt?: number; finishedAt?: number; log: string }
  /** A pid file but no exit status and no process: the wrapper was killed (pod restart, OOM). */
  | { kind: 'lost'; what: string; log: string }

export interface NodeEvidence {
  run: PodRun
  /** `nodetool netstats` shows a Rebuild stream plan on this node. */
  streaming: boolean
  /** Cassandra's record (system.available_ranges_v2 vs describering) for the keyspaces in scope. */
  ranges?: Coverage
}

export type Decision =
  | { action: 'skip'; why: string }
  /** Watch a running rebuild; `thenStart` when its outcome is unknown to us (not our run). */
  | { action: 'attach'; why: string; thenStart: boolean }
  | { action: 'start'; why: string }

export function decide(e: NodeEvidence, req: RebuildRequest): Decision {
  const key = requestKey(req)
  const r = e.run
  if (r.kind === 'running') {
    if (r.what === key) return { action: 'attach', why: 'our rebuild is still running: re-attaching', thenStart: false }
    return { action: 'attach', why: `a rebuild of another request (${r.what}) is running: waiting for it first`, thenStart: true }
  }
  if (e.streaming) {
    // A rebuild that no wrapper of ours watches (manual, or our wrapper died with the JVM call
    // still running): Cassandra refuses a second one, so wait, then run ours (already-streamed
    // ranges are skipped, so it only confirms).
    return { action: 'attach', why: 'Cassandra is rebuilding (netstats) without a live wrapper: waiting for it', thenStart: true }
  }
  if (r.kind === 'exited' && r.rc === 0 && r.what === key) return { action: 'skip', why: 'already rebuilt from this source (exit 0 recorded)' }
  if (e.ranges === 'complete') return { action: 'skip', why: 'every range this node replicates is already streamed (system.available_ranges_v2)' }
  if (e.ranges === 'partial') {
    return { action: 'start', why: 'partly streamed earlier (system.available_ranges_v2): resuming; Cassandra 4.1+ needs -Dcassandra.reset_bootstrap_progress=false on the node for that' }
  }
  if (r.kind === 'exited' && r.rc === 0) return { action: 'start', why: `rebuilt earlier for another request (${r.what})` }
  if (r.kind === 'exited') return { action: 'start', why: `the previous rebuild failed (exit ${r.rc}): retrying, streamed ranges are kept` }
  if (r.kind === 'lost') return { action: 'start', why: 'the previous rebuild was interrupted: resuming, streamed ranges are kept' }
  return { action: 'start', why: 'not rebuilt yet' }
}

const natural = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true })

/**
 * Lanes of work: nodes within a lane run one after another, lanes run at the same time.
 * Sequential: one lane, racks in order, pods by ordinal within a rack. Parallel racks: one lane
 * per rack, so exactly one node per rack streams at any time.
 */
export function rebuildLanes(nodes: TargetNode[], parallelRacks: boolean): TargetNode[][] {
  const racks = [...new Set(nodes.map((n) => n.rack))].sort(natural)
  const byRack = racks.map((r) => sortPods(nodes.filter((n) => n.rack === r).map((n) => ({ ...n, name: n.pod }))).map(({ name: _, ...n }) => n))
  if (parallelRacks) return byRack.filter((l) => l.length > 0)
  return [byRack.flat()]
}

export interface PodAddress {
  name: string
  ready: boolean
  /** The address Cassandra announces (pod IP, or the host IP with hostNetwork). */
  address?: string
}

/**
 * Matches the pods of the target cluster to the ring: the nodes of `targetDc` and their pods.
 * Errors name what is missing (a ring node without pod, a DC without nodes).
 */
export function targetNodes(ring: RingNode[], pods: PodAddress[], targetDc: string): TargetNode[] {
  const inDc = ring.filter((n) => n.datacenter === targetDc)
  if (inDc.length === 0) {
    const dcs = [...new Set(ring.map((n) => n.datacenter))].join(', ')
    throw new ActionError(`datacenter '${targetDc}' has no node in the ring (datacenters: ${dcs})`, 'check the target-dc input / topology, and that the new region is installed')
  }
  const byAddr = new Map(pods.filter((p) => p.address).map((p) => [p.address!, p]))
  const missing = inDc.filter((n) => !byAddr.has(n.address))
  if (missing.length) {
    throw new ActionError(
      `node(s) ${missing.map((n) => n.address).join(', ')} of ${targetDc} match no pod in the target cluster (pods: ${pods.map((p) => `${p.name}=${p.address ?? '?'}`).join(', ')})`,
      'check the kube context / namespace / pod-selector inputs of the target region'
    )
  }
  return inDc.map((n) => ({ pod: byAddr.get(n.address)!.name, address: n.address, hostId: n.hostId, rack: n.rack, datacenter: n.datacenter, up: n.status === 'U', state: n.state }))
}

/** Gates before any rebuild starts; every problem at once. */
export function rebuildGates(ring: RingNode[], req: RebuildRequest, targetDc: string, targets: TargetNode[]): ActionError[] {
  const errs: ActionError[] = []
  const dcs = [...new Set(ring.map((n) => n.datacenter))]
  if (req.sourceDc === targetDc) errs.push(new ActionError(`source-dc and target-dc are both '${targetDc}'`, 'the source is the existing datacenter that holds the data'))
  const src = ring.filter((n) => n.datacenter === req.sourceDc)
  if (src.length === 0) {
    errs.push(new ActionError(`source datacenter '${req.sourceDc}' is not in the ring (datacenters: ${dcs.join(', ')})`, 'set source-dc to the existing datacenter name, as `nodetool status` prints it'))
  } else if (!src.some((n) => n.status === 'U' && n.state === 'N')) {
    errs.push(new ActionError(`no node of source datacenter '${req.sourceDc}' is up (UN)`, 'bring the source datacenter back before rebuilding'))
  }
  for (const n of targets) {
    if (!n.up || n.state !== 'N') {
      errs.push(new ActionError(`node ${n.pod} (${n.address}) of ${targetDc} is ${n.up ? 'U' : 'D'}${n.state}, not UN`, 'every node of the new datacenter must be up and normal before its rebuild'))
    }
  }
  return errs
}
