// The world's state as the daemon writes it to <runDir>/world.json (mode 600) and clients read
// it back: regions, pods, control URL + token, timings. The World class (world.ts) keeps it;
// up / down / connectWorld (world-client.ts) read it.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_RUN_DIR } from './cassandra/cluster.ts'
import type { WorldAksOptions, WorldAksState } from './world-aks.ts'
import type { WorldTrafficOptions, WorldTrafficState } from './world-traffic.ts'

export interface RegionConfig {
  /** region name, e.g. eastus */
  name: string
  /** kube context (and cluster) name */
  context: string
  datacenter: string
  rack: string
  /** Cassandra nodes this region runs (source: at up; new region: cassandra.replicaCount default) */
  nodes: number
}

export interface WorldOptions {
  runDir?: string
  org?: string
  rowsPerTable?: number
  clusterName?: string
  /** second octet of the node addresses (default 0: 127.0.<dc>.<n>) */
  addressBase?: number
  /** Cassandra version or line (default: CASSANDRA_VERSION, else the sandbox's default) */
  cassandraVersion?: string
  source?: Partial<RegionConfig>
  /** helloworld services + ingress wired to the regions' deployments (sandbox/world-traffic.ts) */
  traffic?: WorldTrafficOptions
  target?: Partial<RegionConfig>
  /** AKS mode: managed clusters in an ARM double, Entra tokens and RBAC in the API doubles (world-aks.ts) */
  aks?: WorldAksOptions
}

export interface PodInfo {
  name: string
  namespace: string
  node: string
  address: string
  jmxPort: number
  nativePort: number
  storagePort: number
  log: string
}

export interface RegionState extends RegionConfig {
  role: 'source' | 'target'
  server: string
  overrides: string
  installed: boolean
  pods: PodInfo[]
}

export interface WorldState {
  status: 'starting' | 'ready' | 'failed' | 'stopping'
  error?: string
  pid: number
  runDir: string
  controlUrl: string
  controlToken: string
  kubeconfig: string
  topology: string
  org: string
  clusterName: string
  addressBase: number
  /** the Cassandra version the nodes run */
  cassandraVersion: string
  rowsPerTable: number
  namespace: string
  regions: RegionState[]
  startedAt: string
  timings: Record<string, number>
  /** highest sum of the Cassandra JVMs' resident memory seen so far, MiB */
  peakRssMiB: number
  /** the ingress and its services, when started with the traffic option */
  traffic?: WorldTrafficState
  /** ARM/Entra/OIDC doubles and the managed clusters, when started with the aks option */
  aks?: WorldAksState
}

export const NAMESPACE = 'apigee'
export const CREDS_SECRET = 'apigee-datastore-default-creds'
export const CA_SECRET = 'apigee-ca'
export const CA_NAMESPACE = 'cert-manager'
export const CASSANDRA_STS = 'apigee-cassandra-default'
export const RUNTIME_DEPLOYMENT = 'apigee-runtime'

export class InstallError extends Error {}

export function worldFile(runDir = DEFAULT_RUN_DIR): string {
  return join(runDir, 'world.json')
}

export function readWorldState(runDir = DEFAULT_RUN_DIR): WorldState | undefined {
  const f = worldFile(runDir)
  if (!existsSync(f)) return undefined
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as WorldState
  } catch {
    return undefined
  }
}

/** Human summary of what runs where. */
export function describeWorld(s: WorldState): string {
  const lines = [
    `sandbox world (${s.status}) run dir ${s.runDir}`,
    `  kubeconfig ${s.kubeconfig}   topology ${s.topology}`,
    `  cluster ${s.clusterName} (Cassandra ${s.cassandraVersion}), org ${s.org}, ${s.rowsPerTable} rows per seed table`
  ]
  for (const r of s.regions) {
    lines.push(`  region ${r.name} (${r.role}): context ${r.context} -> ${r.server}, ${r.datacenter}/${r.rack}, overrides ${r.overrides}${r.installed ? '' : ' [not installed]'}`)
    for (const p of r.pods) lines.push(`    pod ${p.namespace}/${p.name}  ip ${p.address}  cql ${p.address}:${p.nativePort}  storage ${p.address}:${p.storagePort}  jmx 127.0.0.1:${p.jmxPort}  log ${p.log}`)
  }
  const t = s.timings
  const sec = (ms?: number): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)}s`)
  lines.push(`  timings: kube APIs ${sec(t.kubeReadyMs)}, source nodes UN ${sec(t.sourceUnMs)}, auth ${sec(t.authMs)}, seeded ${sec(t.seededMs)}, ready ${sec(t.readyMs)}`)
  for (const [k, v] of Object.entries(t)) if (k.startsWith('install-')) lines.push(`  ${k.replace(/-ms$/, '')}: ${sec(v)}`)
  lines.push(`  peak Cassandra RSS: ${s.peakRssMiB} MiB`)
  return lines.join('\n')
}
