// Online checks of a promotion: what Azure, the clusters and the source ring say, read-only.
// Each reading becomes facts (for the plan output and the diagram) and findings (each naming the
// object and the fix). The evaluations are pure functions; run* functions do the reading and turn
// every failure into a finding, so that everything found is reported together.
import { isAbsolute, resolve } from 'node:path'
import { ActionError } from '../../core/errors.ts'
import type { AzureInputs } from '../../core/azure/settings.ts'
import { checkPair, flagsFor, planDirection, type Role, type Side, type VnetState } from '../../core/azure/peering-plan.ts'
import { normalizePrefixes, samePrefixes } from '../../core/azure/cidr.ts'
import { ACTION_PERMISSIONS, dedupe, describePermission, forbiddenPermission, missingPermissions, type Names, type Permission } from '../../core/kube/permissions.ts'
import { aksSession } from '../../core/kube/aks.ts'
import { Kubectl, sortPods, type PodInfo } from '../../core/kube/kubectl.ts'
import { Nodetool, readDatastoreCredentials, type CassandraPods } from '../../core/cassandra/nodetool.ts'
import { Cqlsh } from '../../core/cassandra/cqlsh.ts'
import { datacenters, gateAllUN, gateSchema } from '../../core/cassandra/gates.ts'
import { KEYSPACES_QUERY, altered, planReplication, showReplication, toKeyspaces, type KeyspaceRow, type Plan } from '../../core/cassandra/keyspaces.ts'
import { schemaVersions, unreachableNodes, type ClusterDescription, type RingNode } from '../../core/cassandra/status.ts'
import { pickSeeds, type Seed } from '../../core/cassandra/seeds.ts'
import { targetDcNodes } from '../../core/cassandra/resume.ts'
import { Overrides } from '../../core/overrides/overrides.ts'
import type { Region, Topology } from '../../core/topology.ts'
import type { Finding } from './checks.ts'

export const POD_SELECTOR = 'app=apigee-cassandra'

// ---- facts ---------------------------------------------------------------------------------

export interface VnetFacts {
  region: string
  id: string
  addressPrefixes: string[]
  /** The peering of the default name (<vnet>-to-<remote vnet>) and what create-vnet-peering would do with it. */
  peering: { name: string; exists: boolean; state?: string; action?: string; remoteId?: string }
}

export interface KubeFacts {
  region: string
  context: string
  reachable: boolean
  error?: string
}

export interface CassandraFacts {
  region: string
  pod?: string
  pods: Array<{ name: string; ready: boolean; phase: string; ip?: string }>
  /** Nodes per datacenter, and how many are UN. */
  datacenters: Record<string, { nodes: number; up: number }>
  schemaVersions: string[]
  unreachable: string[]
  /** Nodes already carrying the target datacenter's name. */
  targetDcNodes: string[]
  seeds: Seed[]
  keyspaces?: { alter: number; unchanged: number; skip: number; targetNodes: number; items: Array<{ keyspace: string; action: string; before: string; after: string; why: string }> }
}

export interface OnlineFacts {
  azure?: { source?: VnetFacts; target?: VnetFacts }
  kube: KubeFacts[]
  cassandra?: CassandraFacts
}

export interface OnlineResult {
  facts: OnlineFacts
  findings: Finding[]
}

const err = (check: string, message: string, fix: string): Finding => ({ level: 'error', check, message, fix })
const warn = (check: string, message: string, fix: string): Finding => ({ level: 'warning', check, message, fix })

/** A thrown error as a finding (ActionError: message + its hint as the fix). */
export function asFinding(check: string, e: unknown, fix = 'read the message; fix it and re-run the preflight'): Finding {
  if (e instanceof ActionError) return err(check, e.message, e.hint ?? fix)
  return err(check, (e as Error)?.message ?? String(e), fix)
}

// ---- Azure ---------------------------------------------------------------------------------

export function sideOf(role: Role, r: Region, remote: Region): Side {
  return {
    role,
    subscription: r.azure.subscription ?? '',
    resourceGroup: r.azure.resourceGroup ?? '',
    vnet: r.azure.vnet ?? '',
    nsg: r.azure.nsg,
    peeringName: `${r.azure.vnet}-to-${remote.azure.vnet}`
  }
}

/** Pure: the findings and facts from both VNets as read. */
export function evaluateVnets(topo: Topology, s: Side, t: Side, sv: VnetState, tv: VnetState, names: { source: string; target: string }): { findings: Finding[]; source: VnetFacts; target: VnetFacts } {
  const findings: Finding[] = []
  for (const e of checkPair(s, t, sv, tv)) findings.push(asFinding('azure', e))
  for (const [name, side, v] of [[names.source, s, sv], [names.target, t, tv]] as const) {
    const declared = topo.addressSpaces[name] ?? []
    if (declared.length && v.addressPrefixes.length && !samePrefixes(declared, v.addressPrefixes)) {
      findings.push(
        err(
          'address-space',
          `topology ${topo.path}: regions.${name}.azure.addressSpace is ${normalizePrefixes(declared).join(', ')} but virtual network ${side.vnet} has ${normalizePrefixes(v.addressPrefixes).join(', ')}`,
          `set regions.${name}.azure.addressSpace to ${v.addressPrefixes.join(', ')} (or remove it): the topology must describe the real network`
        )
      )
    }
  }
  const peering = (side: Side, local: VnetState, remote: VnetState): VnetFacts['peering'] => {
    const have = local.peerings.find((p) => p.name.toLowerCase() === side.peeringName.toLowerCase())
    const a = planDirection(side, local, remote, flagsFor(side.role, { allowForwardedTraffic: false, allowGatewayTransit: false, useRemoteGateways: false }))
    if (a instanceof ActionError) findings.push(asFinding('peering', a))
    return { name: side.peeringName, exists: !!have, state: have?.peeringState, remoteId: have?.remoteId, action: a instanceof ActionError ? 'refused' : a.kind }
  }
  const source: VnetFacts = { region: names.source, id: sv.id, addressPrefixes: sv.addressPrefixes, peering: peering(s, sv, tv) }
  const target: VnetFacts = { region: names.target, id: tv.id, addressPrefixes: tv.addressPrefixes, peering: peering(t, tv, sv) }
  return { findings, source, target }
}

export async function runAzure(topo: Topology, source: string, target: string, settings: AzureInputs, log: (l: string) => void): Promise<{ findings: Finding[]; facts: NonNullable<OnlineFacts['azure']> }> {
  const sr = topo.regions[source]
  const tr = topo.regions[target]
  const s = sideOf('source', sr, tr)
  const t = sideOf('target', tr, sr)
  if (![s, t].every((x) => x.subscription && x.resourceGroup && x.vnet)) return { findings: [], facts: {} } // offline checks report the missing fields
  // The Azure SDK is loaded only when Azure is asked (cold start).
  const { connect } = await import('../../core/azure/client.ts')
  const azure = connect(settings)
  log(`Azure: ${azure.credential.description}; ARM endpoint ${settings.endpoint}${settings.caFrom ? `, extra CA ${settings.caFrom}` : ''}`)
  const read = (x: Side) => azure.forSubscription(x.subscription).getVnet(x.resourceGroup, x.vnet)
  const [sv, tv] = await Promise.allSettled([read(s), read(t)])
  const findings: Finding[] = []
  for (const [r, x] of [[sv, s], [tv, t]] as const) {
    if (r.status === 'rejected') findings.push(asFinding('azure', r.reason, `check regions.${x.role === 'source' ? source : target}.azure (subscription, resourceGroup, vnet) and the identity's read permission`))
  }
  if (sv.status === 'rejected' || tv.status === 'rejected') return { findings, facts: {} }
  const e = evaluateVnets(topo, s, t, sv.value, tv.value, { source, target })
  return { findings: [...findings, ...e.findings], facts: { source: e.source, target: e.target } }
}

// ---- Kubernetes ----------------------------------------------------------------------------

export function kubeOf(r: Region, azure?: AzureInputs): Kubectl {
  const context = r.kube.context
  if (r.aks && azure) {
    const at = `topology regions.${r.name}.aks`
    return new Kubectl({ label: `region ${r.name} (AKS ${r.aks.name})`, cluster: r.aks.name, session: aksSession(r.aks, azure, at) })
  }
  return new Kubectl({ context, kubeconfig: r.kube.kubeconfig, label: `region ${r.name}${context ? ` (context ${context})` : ''}` })
}

/** Every permission the promotion's steps need in this region's cluster, by role. */
export function promotionPermissions(role: 'source' | 'target', names: Names): Permission[] {
  const need = [ACTION_PERMISSIONS['expand-keyspaces'](names), ACTION_PERMISSIONS['configure-seed-host'](names), ACTION_PERMISSIONS['rebuild-dc'](names)]
  return dedupe(need.flatMap((n) => n[role] ?? []))
}

/** The region's API answers (a read of its namespace, 20 s at most). */
export async function runKube(r: Region, namespace: string, o: { kube?: Kubectl; role?: 'source' | 'target'; names?: Names } = {}): Promise<{ findings: Finding[]; facts: KubeFacts }> {
  const kube = o.kube ?? kubeOf(r)
  const facts: KubeFacts = { region: r.name, context: r.kube.context ?? (r.aks ? `AKS ${r.aks.name}` : ''), reachable: false }
  if (!r.kube.context && !kube.target.session) return { findings: [], facts } // offline checks report it
  let res
  try {
    res = await kube.run(['get', 'namespace', namespace, '-o', 'name', '--request-timeout=20s'], undefined, { allowFailure: true, quiet: true })
  } catch (e) {
    return { findings: [asFinding('kube', e)], facts } // AKS sign-in: the error names the input and the fix
  }
  const stderr = res.stderr.trim()
  if (res.code === 0 || /NotFound/.test(stderr) || forbiddenPermission(stderr)) {
    facts.reachable = true
    const findings = res.code === 0 || forbiddenPermission(stderr) ? [] : [warn('kube', `namespace '${namespace}' does not exist on ${kube.label}`, r.name ? `it is created by the install (or the seed stage copies it); check topology cassandra.namespace` : '')]
    if (o.role && o.names) findings.push(...(await rbacFindings(kube, promotionPermissions(o.role, { ...o.names, namespace }))))
    return { findings, facts }
  }
  facts.error = stderr.split('\n')[0] || `kubectl exit ${res.code}`
  const hint = /context .* does not exist|no context exists/i.test(stderr)
    ? `add context '${r.kube.context}' to the kubeconfig${r.kube.kubeconfig ? ` ${r.kube.kubeconfig}` : ' (secret kubeconfig of the workflow, or $KUBECONFIG)'}, or fix regions.${r.name}.kube.context`
    : /Unauthorized|Forbidden/i.test(stderr)
      ? `the credentials of context '${r.kube.context}' lack access: renew the cluster login / check RBAC (get namespaces)`
      : `the cluster API of context '${r.kube.context}' is not reachable from the runner: check the kubeconfig server address, the network path (private cluster: a self-hosted runner inside the network) and that the cluster runs`
  return { findings: [err('kube', `cannot reach the Kubernetes API of ${kube.label}: ${facts.error}`, hint)], facts }
}

/** One finding per missing permission (SelfSubjectAccessReview), all at once. */
async function rbacFindings(kube: Kubectl, wanted: Permission[]): Promise<Finding[]> {
  try {
    const missing = await missingPermissions(kube, wanted)
    return (missing ?? []).map((x) =>
      err('rbac', `the identity lacks the permission to ${describePermission(x)} on ${kube.label}`, "grant it with the Role / ClusterRole of docs/rbac (docs/aks.md)")
    )
  } catch (e) {
    return [asFinding('rbac', e)]
  }
}

// ---- Cassandra (source region) -------------------------------------------------------------

export interface RingReading {
  pods: PodInfo[]
  ring: RingNode[]
  describe: ClusterDescription
  plan?: Plan
  targetNodes: number
  hostNetwork: boolean
  /** Cassandra pods of the target region's cluster (a resumed promotion's new datacenter). */
  targetPods?: PodInfo[]
}

const nodeName = (n: RingNode): string => `${n.address} (${n.datacenter}/${n.rack}, ${n.status}${n.state})`

/** Pure: findings and facts from the source region's pods, ring and keyspace plan. */
export function evaluateRing(region: string, sourceDc: string, targetDc: string, x: RingReading, readyPodName?: string): { findings: Finding[]; facts: CassandraFacts } {
  const findings: Finding[] = []
  for (const p of x.pods.filter((p) => !p.ready)) {
    findings.push(err('cassandra', `Cassandra pod ${p.namespace}/${p.name} of region ${region} is not ready (${p.phase})`, `wait until it is Running and Ready, or look at it: kubectl describe pod ${p.name} -n ${p.namespace}; kubectl logs ${p.name} -n ${p.namespace}`))
  }
  const un = gateAllUN(x.ring)
  if (!un.ok) findings.push(err('ring', `ring of region ${region}: ${un.detail}`, 'every node must be Up/Normal before a new datacenter joins: bring the node back (or removenode a dead one) and wait for nodetool status to show UN'))
  for (const g of gateSchema(x.describe, x.ring)) {
    if (!g.ok) findings.push(err('ring', `ring of region ${region}: ${g.detail}`, g.name === 'one schema version' ? 'wait for schema agreement (nodetool describecluster), or restart the node with the odd version' : 'fix the unreachable node(s) (nodetool describecluster / status) before promoting'))
  }
  const dcs = datacenters(x.ring)
  if (x.ring.length && !dcs.includes(sourceDc)) {
    findings.push(err('datacenter', `source datacenter '${sourceDc}' is not in the ring of region ${region} (datacenters: ${dcs.join(', ')})`, `set regions.${region}.cassandra.datacenter to the datacenter its nodes run in`))
  }
  const { ours, stale } = targetDcNodes(x.ring, targetDc, x.targetPods ?? [])
  if (ours.length) {
    findings.push(
      warn(
        'datacenter',
        `target datacenter '${targetDc}' is already in the ring with ${ours.length} node(s) of the new region: ${ours.map(nodeName).join(', ')}`,
        'an earlier run got past the install stage: this run resumes, and each stage does only what is left'
      )
    )
  }
  if (stale.length) {
    findings.push(
      err(
        'datacenter',
        `target datacenter '${targetDc}' is already in the ring: ${stale.map(nodeName).join(', ')}`,
        `these nodes are left from an earlier attempt or belong to another region: decommission them (nodetool decommission on each), or nodetool removenode ${stale.map((n) => n.hostId).join(' ')} if they are gone; or give the new region another datacenter name`
      )
    )
  }
  const seeds = pickSeeds(x.pods, x.ring, 1, x.hostNetwork)
  if (x.pods.length && x.ring.length && seeds.length === 0) {
    findings.push(err('seed', `no seed host candidate in region ${region}: no ready pod is UN in the ring`, 'configure-seed-host needs one ready, UN source node: fix the ring first'))
  }
  const per: CassandraFacts['datacenters'] = {}
  for (const n of x.ring) {
    per[n.datacenter] ??= { nodes: 0, up: 0 }
    per[n.datacenter].nodes++
    if (n.status === 'U' && n.state === 'N') per[n.datacenter].up++
  }
  for (const i of x.plan?.items ?? []) if (i.warning) findings.push(warn('keyspaces', i.warning, 'see the keyspace plan'))
  const facts: CassandraFacts = {
    region,
    pod: readyPodName,
    pods: x.pods.map((p) => ({ name: p.name, ready: p.ready, phase: p.phase, ip: p.hostNetwork || x.hostNetwork ? (p.hostIP ?? p.podIP) : p.podIP })),
    datacenters: per,
    schemaVersions: schemaVersions(x.describe),
    unreachable: unreachableNodes(x.describe, x.ring),
    targetDcNodes: [...ours, ...stale].map((n) => n.address),
    seeds,
    keyspaces: x.plan && {
      alter: altered(x.plan).length,
      unchanged: x.plan.items.filter((i) => i.action === 'unchanged').length,
      skip: x.plan.items.filter((i) => i.action === 'skip').length,
      targetNodes: x.targetNodes,
      items: x.plan.items.map((i) => ({ keyspace: i.keyspace, action: i.action, before: showReplication(i.before, i.strategy), after: i.after ? showReplication(i.after) : '', why: i.reason }))
    }
  }
  return { findings, facts }
}

/** Nodes the new datacenter is planned with: replicaCount of its overrides, else the source's, else the source DC's node count. */
function plannedNodes(topo: Topology, src: Region, dst: Region, workspace: string, sourceNodes: number): { n: number; from: string } {
  for (const r of [dst, src]) {
    const f = r.cassandra.overrides
    if (!f) continue
    const path = isAbsolute(f) ? f : resolve(workspace, f)
    try {
      const v = Number(Overrides.load(path).doc.getIn(['cassandra', 'replicaCount']))
      if (Number.isInteger(v) && v > 0) return { n: v, from: `cassandra.replicaCount of ${f}` }
    } catch {
      /* missing / unreadable: offline checks report the source's; the target's is written later */
    }
  }
  return { n: sourceNodes, from: `the node count of '${src.cassandra.datacenter}'` }
}

export async function runCassandra(topo: Topology, source: string, target: string, workspace: string, log: (l: string) => void, sourceKube?: Kubectl): Promise<{ findings: Finding[]; facts?: CassandraFacts; plannedFrom?: string; plan?: Plan }> {
  const src = topo.regions[source]
  const dst = topo.regions[target]
  const sourceDc = src.cassandra.datacenter
  const targetDc = dst.cassandra.datacenter
  const kube = sourceKube ?? kubeOf(src)
  if ((!src.kube.context && !kube.target.session) || !sourceDc || !targetDc) return { findings: [] }
  const namespace = src.kube.namespace ?? topo.cassandra.namespace
  // (not region.ts's cassandraPods: that module also reads the <role>-context inputs this action has not)
  const pods = sortPods(await kube.getPods(namespace, POD_SELECTOR))
  if (pods.length === 0) {
    return { findings: [err('cassandra', `no Cassandra pod matches '${POD_SELECTOR}' in namespace '${namespace}' on ${kube.label}`, `check regions.${source}.kube.context and the namespace (topology cassandra.namespace / regions.${source}.kube.namespace): the source region must run Cassandra`)] }
  }
  let hostNetwork = pods.some((p) => p.hostNetwork)
  if (src.cassandra.overrides) {
    try {
      hostNetwork = Overrides.load(isAbsolute(src.cassandra.overrides) ? src.cassandra.overrides : resolve(workspace, src.cassandra.overrides)).cassandra.hostNetwork === true || hostNetwork
    } catch {
      /* reported offline */
    }
  }
  const ready = pods.find((p) => p.ready)
  if (!ready) {
    const e = evaluateRing(source, sourceDc, targetDc, { pods, ring: [], describe: { schemaVersions: {}, datacenters: {}, keyspaces: {} }, targetNodes: 0, hostNetwork })
    return {
      findings: [...e.findings.filter((f) => f.check === 'cassandra'), err('cassandra', `no Cassandra pod of region ${source} is ready: the ring, the keyspaces and the seed candidates cannot be read`, 'bring the source region back first (kubectl get pods)')],
      facts: e.facts
    }
  }
  const creds = await readDatastoreCredentials(kube, namespace, topo.cassandra.credentialsSecret, { jmx: true, ddl: true })
  const where: CassandraPods = { kube, namespace }
  const nodetool = new Nodetool(where, creds.jmx)
  const cqlsh = new Cqlsh(where, creds.ddl, { ssl: false, requestTimeoutS: 60 })
  log(`Cassandra: reading the ring and the keyspaces through pod ${ready.name} of region ${source}`)
  // The ring first, then the keyspaces: a CQL failure (e.g. system_auth without quorum while a
  // node is down) must not hide what the ring says.
  const [ring, describe] = await Promise.all([nodetool.status(ready.name, { quiet: true }), nodetool.describeCluster(ready.name, { quiet: true })])
  // the new region's own pods: a resumed promotion finds them in the ring already
  const targetPods = dst.kube.context ? await kubeOf(dst).getPods(dst.kube.namespace ?? topo.cassandra.namespace, POD_SELECTOR).catch(() => []) : []
  const planned = plannedNodes(topo, src, dst, workspace, ring.filter((n) => n.datacenter === sourceDc).length)
  let plan: Plan | undefined
  const findings: Finding[] = []
  try {
    const rows = await cqlsh.selectJson<KeyspaceRow>(ready.name, KEYSPACES_QUERY, { quiet: true })
    plan = planReplication(toKeyspaces(rows), { mode: 'add', sourceDc, targetDc, targetNodes: planned.n })
  } catch (e) {
    findings.push(asFinding('keyspaces', e))
  }
  const e = evaluateRing(source, sourceDc, targetDc, { pods, ring, describe, plan, targetNodes: planned.n, hostNetwork, targetPods }, ready.name)
  return { findings: [...findings, ...e.findings], facts: e.facts, plannedFrom: planned.from, plan }
}
