// Offline checks of a promotion: everything the topology alone can tell before any cluster or
// Azure API is asked. Each finding names the field and the fix; errors stop the promotion.
import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { overlapPairs } from '../../core/azure/cidr.ts'
import { ActionError } from '../../core/errors.ts'
import { k8sClusterClash, Overrides } from '../../core/overrides/overrides.ts'
import type { Region, Topology } from '../../core/topology.ts'

export interface Finding {
  level: 'error' | 'warning'
  check: string
  message: string
  fix: string
}

export interface PromotionPlanInput {
  topo: Topology
  source: string
  target: string
  /** Stages that will run; a stage's own needs are only checked when it runs. */
  stages: { network: boolean; seed: boolean; verify: boolean }
  workspace: string
}

const where = (t: Topology, r: string, field: string): string => `topology ${t.path}: regions.${r}.${field}`

export function offlineChecks(p: PromotionPlanInput): Finding[] {
  const f: Finding[] = []
  const { topo, source, target } = p
  const err = (check: string, message: string, fix: string): void => void f.push({ level: 'error', check, message, fix })
  const warn = (check: string, message: string, fix: string): void => void f.push({ level: 'warning', check, message, fix })
  const known = Object.keys(topo.regions).join(', ')
  const src = topo.regions[source]
  const dst = topo.regions[target]
  if (!src) err('regions', `source region '${source}' is not in topology ${topo.path}`, `use one of: ${known}`)
  if (!dst) err('regions', `target region '${target}' is not in topology ${topo.path}`, `add it under regions: or use one of: ${known}`)
  if (source === target) err('regions', `source and target region are both '${source}'`, 'the target is the new region; the source is the one with the data')
  if (!src || !dst || source === target) return f

  for (const [name, r] of [[source, src], [target, dst]] as Array<[string, Region]>) {
    if (!r.cassandra.datacenter) err('datacenter', `${where(topo, name, 'cassandra.datacenter')} is not set`, "name the region's Cassandra datacenter, e.g. dc-1")
    if (!r.kube.context && !r.aks) err('kube', `${where(topo, name, 'kube.context')} is not set`, "give the kubeconfig context of the region's cluster, or its AKS cluster as aks: { subscription, resourceGroup, name }")
    if (p.stages.network) {
      for (const field of ['subscription', 'resourceGroup', 'vnet'] as const) {
        if (!r.azure[field]) err('azure', `${where(topo, name, `azure.${field}`)} is not set (needed by the network stage)`, 'set it, or skip the network stage')
      }
    }
  }
  if (src.cassandra.datacenter && src.cassandra.datacenter === dst.cassandra.datacenter) {
    err('datacenter', `source and target both use datacenter '${src.cassandra.datacenter}'`, 'the new region needs a datacenter name of its own (e.g. dc-2)')
  }
  if (!dst.cassandra.rack) warn('rack', `${where(topo, target, 'cassandra.rack')} is not set; ra-1 is assumed`, 'set the rack of the new datacenter')

  const a = topo.addressSpaces[source] ?? []
  const b = topo.addressSpaces[target] ?? []
  for (const [x, y] of overlapPairs(a, b)) {
    err('address-space', `address spaces overlap: ${source} ${x} and ${target} ${y}`, 'peered virtual networks need disjoint ranges: re-address one of them')
  }

  if (p.stages.seed) {
    const ov = src.cassandra.overrides
    if (!ov) err('overrides', `${where(topo, source, 'cassandra.overrides')} is not set`, "point it at the source region's overrides file: the new region's file is derived from it")
    else {
      const path = isAbsolute(ov) ? ov : resolve(p.workspace, ov)
      if (!existsSync(path)) err('overrides', `overrides file ${ov} of region ${source} does not exist (looked at ${path})`, 'commit it to the repository or fix the path')
    }
    if (!dst.cassandra.overrides) warn('overrides', `${where(topo, target, 'cassandra.overrides')} is not set; overrides-${target}.yaml beside the source file is used`, 'set it to choose the path')
    f.push(...k8sClusterChecks(p))
  }
  if (p.stages.verify) {
    for (const [name, r] of [[source, src], [target, dst]] as Array<[string, Region]>) {
      if (!r.ingress.url) warn('ingress', `${where(topo, name, 'ingress.url')} is not set: the verify stage needs it`, 'give the URL to probe')
      if (!r.ingress.body && !r.ingress.header && !r.ingress.json) {
        warn('ingress', `${where(topo, name, 'ingress')} has no body/header/json marker: responses cannot be told apart`, 'say how a response from this region is recognised')
      }
    }
  }
  return f
}

/**
 * The new region must not register as another region's cluster: its k8sCluster (topology, and
 * the target overrides file once it exists) must differ from every other region's.
 */
function k8sClusterChecks(p: PromotionPlanInput): Finding[] {
  const { topo, target } = p
  const out: Finding[] = []
  const fix = `set k8sCluster.name and k8sCluster.region of the new cluster in that file (configure-seed-host writes them from topology regions.${target}.k8sCluster or its inputs target-k8s-cluster-name / -region)`
  const dst = topo.regions[target].k8sCluster
  for (const [name, r] of Object.entries(topo.regions)) {
    if (name !== target && dst.name !== undefined && r.k8sCluster.name === dst.name && r.k8sCluster.region === dst.region) {
      out.push({ level: 'error', check: 'k8sCluster', message: `${where(topo, target, 'k8sCluster')} (name '${dst.name}', region '${dst.region ?? '(unset)'}') equals regions.${name}.k8sCluster`, fix: `give regions.${target}.k8sCluster the new cluster's name and region` })
    }
  }
  const load = (ov: string | undefined): Overrides | undefined => {
    if (!ov) return undefined
    const path = isAbsolute(ov) ? ov : resolve(p.workspace, ov)
    if (!existsSync(path)) return undefined
    try {
      return Overrides.parse(readFileSync(path, 'utf8'), ov)
    } catch (e) {
      out.push({ level: 'error', check: 'overrides', message: (e as ActionError).message, fix: (e as ActionError).hint ?? 'fix the file' })
      return undefined
    }
  }
  const mine = load(topo.regions[target].cassandra.overrides)
  const others = Object.entries(topo.regions).filter(([n]) => n !== target).map(([, r]) => load(r.cassandra.overrides)).filter((o): o is Overrides => o !== undefined)
  const clash = mine && k8sClusterClash(mine, others, fix)
  if (clash) out.push({ level: 'error', check: 'k8sCluster', message: clash.message, fix: clash.hint ?? fix })
  return out
}
