// The pure half of rebuild-dc's CRD mode: the Apigee operator rebuilds the new DC's nodes when a
// CassandraDataReplication (apigee.cloud.google.com/v1alpha1) is applied in the new region, and
// reports per pod in the ApigeeDatastore's status:
//
//   status.cassandraDataReplication: { state: running | complete | error,
//     rebuildDetails: { <pod>: { state, message?, updated (epoch seconds) } } }
//
// Here: reading those objects, the manifest, what to do given what is there (skip, attach, apply)
// and how to read a status while watching (which entries are news since our apply). No I/O.
import { ActionError } from '../errors.ts'
import type { KubeObject } from '../kube/kubectl.ts'

export const APIGEE_API = 'apigee.cloud.google.com/v1alpha1'
/** Fully qualified, so kubectl never confuses them with another group's short names. */
export const CDR_RESOURCE = 'cassandradatareplications.apigee.cloud.google.com'
export const DATASTORE_RESOURCE = 'apigeedatastores.apigee.cloud.google.com'
/** The name the vendor's multi-region guide uses; an existing CassandraDataReplication keeps its own. */
export const DEFAULT_CDR_NAME = 'region-expansion'

/** A CassandraDataReplication as read from the cluster. */
export interface Replication {
  name: string
  organization?: string
  /** spec.source.region: the source datacenter's name */
  source?: string
  force: boolean
  generation?: number
  createdAt?: string
}

export interface PodReplication {
  state: string
  message?: string
  /** epoch seconds */
  updated?: number
}

export interface ReplicationStatus {
  state?: string
  pods: Record<string, PodReplication>
}

export interface Datastore {
  name: string
  replication?: ReplicationStatus
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)
const items = (list: unknown): Obj[] => (isObj(list) && Array.isArray(list.items) ? list.items.filter(isObj) : [])
const meta = (o: Obj): Obj => (isObj(o.metadata) ? o.metadata : {})

/** `kubectl get cassandradatareplications -o json` -> the replications (spec only). */
export function parseReplications(list: unknown): Replication[] {
  return items(list).map((o) => {
    const spec = isObj(o.spec) ? o.spec : {}
    const m = meta(o)
    return {
      name: str(m.name) ?? '',
      organization: str(spec.organizationRef),
      source: isObj(spec.source) ? str(spec.source.region) : undefined,
      force: spec.force === true || spec.force === 'true',
      generation: typeof m.generation === 'number' ? m.generation : undefined,
      createdAt: str(m.creationTimestamp)
    }
  })
}

/** status.cassandraDataReplication of an ApigeeDatastore; undefined when the operator wrote none. */
export function parseReplicationStatus(raw: unknown): ReplicationStatus | undefined {
  if (!isObj(raw)) return undefined
  const pods: Record<string, PodReplication> = {}
  const details = isObj(raw.rebuildDetails) ? raw.rebuildDetails : {}
  for (const [pod, d] of Object.entries(details)) {
    if (!isObj(d)) continue
    const updated = typeof d.updated === 'number' ? d.updated : typeof d.updated === 'string' && /^\d+$/.test(d.updated) ? Number(d.updated) : undefined
    pods[pod] = { state: str(d.state) ?? 'unknown', message: str(d.message), updated }
  }
  const state = str(raw.state)
  if (state === undefined && Object.keys(pods).length === 0) return undefined
  return { state, pods }
}

/** One ApigeeDatastore object (`kubectl get apigeeds NAME -o json`). */
export function parseDatastore(o: unknown): Datastore {
  const obj = isObj(o) ? o : {}
  const status = isObj(obj.status) ? obj.status : {}
  return { name: str(meta(obj).name) ?? '', replication: parseReplicationStatus(status.cassandraDataReplication) }
}

export function parseDatastores(list: unknown): Datastore[] {
  return items(list).map(parseDatastore)
}

/** The datastore to watch: the one named, else the only one in the namespace. */
export function pickDatastore(all: Datastore[], wanted: string | undefined, where: string): Datastore {
  const names = all.map((d) => d.name).join(', ')
  if (wanted) {
    const d = all.find((x) => x.name === wanted)
    if (!d) throw new ActionError(`input 'datastore': no ApigeeDatastore '${wanted}' in ${where}${names ? ` (there: ${names})` : ''}`, 'name an existing ApigeeDatastore (kubectl -n apigee get apigeeds), or leave datastore empty')
    return d
  }
  if (all.length === 0) {
    throw new ActionError(`no ApigeeDatastore in ${where}: method crd needs the Apigee operator and its datastore in the new region`, 'install the Apigee datastore in the new region first, check namespace / target-context, or use method nodetool')
  }
  if (all.length > 1) throw new ActionError(`${all.length} ApigeeDatastores in ${where} (${names}): which one holds the new datacenter?`, "set input 'datastore' to one of them")
  return all[0]
}

export interface ReplicationRequest {
  name: string
  namespace: string
  organization: string
  sourceDc: string
  force: boolean
}

/** The CassandraDataReplication we apply. */
export function replicationManifest(r: ReplicationRequest): KubeObject {
  return {
    apiVersion: APIGEE_API,
    kind: 'CassandraDataReplication',
    metadata: { name: r.name, namespace: r.namespace },
    spec: { organizationRef: r.organization, force: r.force, source: { region: r.sourceDc } }
  }
}

export type ReplicationDecision =
  | { action: 'skip'; name: string; why: string }
  /** Watch the replication the operator is running (or about to run) for our source. */
  | { action: 'attach'; name: string; why: string }
  /**
   * Apply our manifest. `recreate`: the object already has exactly this spec, so an apply would
   * change nothing and the operator would not run again: delete it and create it anew.
   */
  | { action: 'apply'; name: string; why: string; force: boolean; recreate: boolean }

const newest = (rs: Replication[]): Replication | undefined => [...rs].sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))[0]

/** The first error the status reports, for messages ("apigee-cassandra-default-0: failed to ..."). */
export function firstError(s: ReplicationStatus | undefined): string | undefined {
  const e = Object.entries(s?.pods ?? {}).find(([, p]) => p.state === 'error')
  if (e) return `${e[0]}: ${e[1].message ?? 'error'}`
  return s?.state === 'error' ? 'state error (no pod named)' : undefined
}

/**
 * What to do given the CassandraDataReplications in the namespace, the datastore's replication
 * status and the new DC's pods. Ours = a replication whose source is `sourceDc`.
 */
export function decideReplication(o: { replications: Replication[]; status?: ReplicationStatus; sourceDc: string; organization: string; pods: string[] }): ReplicationDecision {
  const ours = o.replications.filter((r) => r.source === o.sourceDc)
  const others = o.replications.filter((r) => r.source !== o.sourceDc)
  const target = newest(ours) ?? newest(others)
  const name = target?.name ?? DEFAULT_CDR_NAME
  const apply = (why: string, force: boolean): ReplicationDecision => ({
    action: 'apply',
    name,
    why,
    force,
    recreate: target !== undefined && target.source === o.sourceDc && target.force === force && target.organization === o.organization
  })
  const st = o.status
  if (!target) {
    if (!st) return apply('no CassandraDataReplication yet', false)
    return apply(`no CassandraDataReplication, but the datastore reports an earlier replication (state ${st.state ?? '?'}) of unknown source: applying with force: true`, true)
  }
  if (others.length) {
    const list = others.map((r) => `${r.name} (source ${r.source ?? '?'})`).join(', ')
    return apply(`CassandraDataReplication ${list} names another source${st?.state ? ` (state ${st.state})` : ''}: re-applying ${name} for ${o.sourceDc} with force: true`, true)
  }
  const notDone = o.pods.filter((p) => st?.pods[p]?.state !== 'complete')
  switch (st?.state) {
    case 'complete':
      if (notDone.length === 0) return { action: 'skip', name, why: `the operator reports every pod complete for ${name} (source ${o.sourceDc})` }
      return apply(`the operator reports complete, but not for ${notDone.join(', ')} (added since?): re-applying with force: true`, true)
    case 'error':
      return apply(`the last replication failed (${firstError(st)}): re-applying with force: true`, true)
    case 'running':
      return { action: 'attach', name, why: `the operator is replicating from ${o.sourceDc} (${name}): re-attaching` }
    case undefined:
      return { action: 'attach', name, why: `${name} (source ${o.sourceDc}) is applied but the operator has not reported yet: waiting for it` }
    default:
      return { action: 'attach', name, why: `the operator reports state '${st?.state}' for ${name}: watching` }
  }
}

export interface PodView {
  pod: string
  /** the operator's state, or 'waiting' when it has said nothing about this pod since our apply */
  state: string
  message?: string
  updated?: number
}

export interface ReplicationView {
  /** The status differs from the one seen when we applied (always true when we did not apply). */
  fresh: boolean
  state?: string
  pods: PodView[]
  failed: PodView[]
  /** complete for every pod */
  done: boolean
  /** the operator says complete, but not for these pods */
  missing: string[]
}

const samePod = (a: PodReplication | undefined, b: PodReplication | undefined): boolean =>
  a !== undefined && b !== undefined && a.state === b.state && a.updated === b.updated && a.message === b.message

/**
 * Reads a status against the one seen at apply time (`before`; undefined when attaching): an
 * entry the operator has not touched since is old news (a complete from the last run, an error
 * we are retrying) and shows as 'waiting'. Compares values, not clocks: the operator's clock is
 * not ours.
 */
export function viewReplication(now: ReplicationStatus | undefined, before: ReplicationStatus | undefined, pods: string[], applied: boolean): ReplicationView {
  const fresh = !applied || JSON.stringify(now ?? null) !== JSON.stringify(before ?? null)
  const view = pods.map((pod): PodView => {
    const p = now?.pods[pod]
    if (!p || !fresh || (applied && samePod(p, before?.pods[pod]))) return { pod, state: 'waiting' }
    return { pod, state: p.state, message: p.message, updated: p.updated }
  })
  const state = fresh ? now?.state : undefined
  const failed = view.filter((p) => p.state === 'error')
  if (state === 'error' && failed.length === 0) {
    // an error the operator did not pin on one of our pods (another pod, or none)
    const other = Object.entries(now?.pods ?? {}).find(([, p]) => p.state === 'error')
    failed.push({ pod: other?.[0] ?? '(operator)', state: 'error', message: other?.[1].message ?? 'state error' })
  }
  const missing = state === 'complete' ? view.filter((p) => p.state !== 'complete').map((p) => p.pod) : []
  return { fresh, state, pods: view, failed, done: state === 'complete' && missing.length === 0, missing }
}

/** What to do about an error the operator reports for a pod (its message is Cassandra's). */
export function operatorErrorHint(message: string, sourceDc: string): string {
  if (/Unable to find sufficient sources|not a valid datacenter/i.test(message)) {
    return `check source-datacenter (${sourceDc}) and that the keyspaces replicate to both datacenters, then re-run (it re-applies with force: true)`
  }
  if (/Discovered existing bootstrap data/i.test(message)) {
    return 'this node already streamed (part of) the data and Cassandra 5.0 refuses to rebuild over it: restart the node with the JVM option -Dcassandra.reset_bootstrap_progress=false (resume, keeps what was streamed) or =true (start over), then re-run'
  }
  return 'read the operator log (kubectl -n apigee logs deploy/apigee-controller-manager); fix the cause and re-run (it re-applies with force: true)'
}
