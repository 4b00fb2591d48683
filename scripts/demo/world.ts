// The demo's sandbox: the world daemon (Kubernetes doubles, real Cassandra, helloworld services
// and the ingress), the ARM double with its Entra and GitHub OIDC doubles, and the files a user
// would keep in their repository: the topology and the source overrides.
//
// Two ways to reach the clusters, as users do:
// - kubeconfig (default): a kubeconfig with one context per region (KUBECONFIG in every step),
//   the ARM double in this process for the VNets and NSGs;
// - aks (MR_KUBE_MODE=aks): the world runs in AKS mode (sandbox/world-aks.ts): its ARM double
//   serves the managed clusters and the VNets/NSGs behind one endpoint and one Entra tenant, the
//   clusters accept only Entra tokens and enforce the RBAC of docs/rbac, the topology names each
//   region's cluster (regions.<r>.aks) and no step gets a kubeconfig: the actions read it from ARM
//   and run the real kubelogin from .cache/bin.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import YAML from 'yaml'
import { startArmDouble, type ArmDouble } from '../../sandbox/arm/server.ts'
import { ROOT } from '../../sandbox/runner.ts'
import { down, up, type WorldClient } from '../../sandbox/world-client.ts'
import type { WorldAksOptions } from '../../sandbox/world-aks.ts'
import type { WorldState } from '../../sandbox/world-state.ts'

export const SOURCE = 'eastus'
export const TARGET = 'westeurope'
export const SERVICE = 'helloworld'
const SUBSCRIPTIONS: Record<string, string> = { [SOURCE]: '11111111-1111-4111-8111-111111111111', [TARGET]: '22222222-2222-4222-8222-222222222222' }
const ADDRESS_SPACES: Record<string, string> = { [SOURCE]: '10.1.0.0/16', [TARGET]: '10.2.0.0/16' }

/** The sandbox's install (and re-apply) command: the new region's runtime from the overrides file seed wrote. */
export const INSTALL_COMMAND = `o="$(realpath "$MR_OVERRIDES")" && cd "$MR_SANDBOX_ROOT" && npm run --silent sandbox -- install-region ${TARGET} --overrides "$o"`

export type KubeMode = 'kubeconfig' | 'aks'

/** The Azure doubles as the steps see them: ARM + Entra endpoint, its CA, the identity, GitHub OIDC. */
export interface AzureDoubles {
  url: string
  caFile: string
  clientId: string
  tenantId: string
  oidcUrl: string
}

/** The RBAC a cluster admin grants the identity in AKS mode: the files of docs/rbac, per cluster. */
export const AKS_RBAC: NonNullable<WorldAksOptions['rbac']> = {
  source: ['expand-keyspaces.yaml', 'configure-seed-host-source.yaml', 'verify-failover.yaml'],
  target: ['rebuild-dc.yaml', 'configure-seed-host-target.yaml', 'verify-failover.yaml']
}

export interface Sandbox {
  mode: KubeMode
  world: WorldClient
  /** kubeconfig mode: the ARM double in this process (closed at teardown) */
  arm?: ArmDouble
  azure: AzureDoubles
  /** the world's own admin kubeconfig (static token): for the demo's own reads, never given to a step */
  adminKubeconfig: string
  /** The caller's repository checkout: .github/mr-topology.yml, overrides/ */
  workspace: string
  topology: string
  /** Environment of every step (what the runner and the job provide). */
  env: Record<string, string>
  ingressUrl: string
  upMs: number
}

export interface SandboxOptions {
  runDir: string
  workspace: string
  /** Second octet of the Cassandra node addresses, so the demo runs beside test worlds. */
  addressBase: number
  rowsPerTable?: number
  weights: Record<string, number>
  replicas: number
  log: (line: string) => void
  /** default kubeconfig */
  mode?: KubeMode
  /** AKS mode: lifetimes of the Entra access tokens and of the GitHub ID tokens (seconds) */
  aks?: { tokenLifetimeSec?: number; idTokenLifetimeSec?: number }
}

const networkOf = (region: string): { subscription: string; resourceGroup: string } => ({ subscription: SUBSCRIPTIONS[region], resourceGroup: `rg-hybrid-${region}` })
const VNETS = Object.entries(ADDRESS_SPACES).map(([region, prefix]) => ({ ...networkOf(region), name: `vnet-${region}`, location: region, addressPrefixes: [prefix] }))
const NSGS = Object.keys(ADDRESS_SPACES).map((region) => ({ ...networkOf(region), name: `nsg-${region}`, location: region }))

export async function startSandbox(o: SandboxOptions): Promise<Sandbox> {
  const t0 = Date.now()
  // A world left by an interrupted demo is stopped first: every demo starts from a known state.
  await down(o.runDir)
  const mode = o.mode ?? 'kubeconfig'
  const arm = mode === 'kubeconfig' ? await startArmDouble({ tlsDir: join(o.runDir, '..', 'demo-arm-tls') }) : undefined
  try {
    const started = await up({
      runDir: o.runDir,
      addressBase: o.addressBase,
      rowsPerTable: o.rowsPerTable,
      target: { name: TARGET, context: `aks-${TARGET}` },
      traffic: {
        regions: Object.fromEntries(Object.entries(o.weights).map(([r, w]) => [r, { weight: w, replicas: o.replicas, version: r === SOURCE ? 'v1' : 'v2' }])),
        deployment: SERVICE
      },
      // AKS mode: each region's cluster in its region's subscription and resource group, next to its VNet
      ...(mode === 'aks'
        ? { aks: { ...o.aks, placement: Object.fromEntries(Object.keys(ADDRESS_SPACES).map((r) => [r, networkOf(r)])), rbac: AKS_RBAC, network: { vnets: VNETS, nsgs: NSGS } } }
        : {}),
      log: (l) => o.log(l)
    })
    const world = started.client
    for (const v of VNETS) arm?.world.addVnet(v)
    for (const n of NSGS) arm?.world.addNsg(n)
    const aks = world.state.aks
    const azure: AzureDoubles = arm ?? { url: aks!.armUrl, caFile: aks!.caFile, clientId: aks!.clientId, tenantId: aks!.tenantId, oidcUrl: aks!.oidcUrl }
    const { topology } = writeRepoFiles(o.workspace, world.state, azure, mode)
    const env: Record<string, string> = {
      // kubectl, and in AKS mode kubelogin (npm run setup builds it into .cache/bin)
      PATH: `${join(ROOT, '.cache', 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      ...(mode === 'kubeconfig' ? { KUBECONFIG: world.state.kubeconfig } : {}),
      // what the runner gives a job with `permissions: id-token: write`
      ...(arm ? arm.runnerEnv() : aks!.runnerEnv),
      // the install / re-apply command of the sandbox
      MR_SANDBOX_ROOT: ROOT,
      SANDBOX_RUN_DIR: o.runDir
    }
    return { mode, world, arm, azure, adminKubeconfig: world.state.kubeconfig, workspace: o.workspace, topology, env, ingressUrl: world.state.traffic!.url, upMs: Date.now() - t0 }
  } catch (e) {
    await arm?.close().catch(() => {})
    throw e
  }
}

/** The inputs of promote-region.yml for a promotion of TARGET next to SOURCE on this sandbox. */
export function promoteInputs(s: Sandbox, o: { expectedWeights: string; faultDuration: string }): Record<string, unknown> {
  return {
    topology: '.github/mr-topology.yml',
    'source-region': SOURCE,
    'target-region': TARGET,
    'install-command': INSTALL_COMMAND,
    'reapply-command': INSTALL_COMMAND,
    'expected-weights': o.expectedWeights,
    'fault-duration': o.faultDuration,
    // the new cluster's cert-manager made its own apigee-ca: the seed stage replaces it with the original's
    'target-instance-id': `sandbox-${TARGET}`,
    'replace-ca': true,
    'azure-client-id': s.azure.clientId,
    'azure-tenant-id': s.azure.tenantId
    // AKS mode: kubelogin-version stays empty, the runner has kubelogin on PATH (.cache/bin)
  }
}

/** What runs where, for the terminal. */
export function describeSandbox(s: Sandbox): string[] {
  const st = s.world.state
  const aks = s.mode === 'aks' ? st.aks : undefined
  const lines = [`world daemon pid ${st.pid}, run dir ${relative(ROOT, st.runDir)}, ${aks ? 'AKS mode: no kubeconfig for the steps' : `kubeconfig ${relative(ROOT, st.kubeconfig)}`}`]
  for (const r of st.regions) {
    const pods = r.pods.map((p) => `${p.name} ${p.address}`).join(', ')
    const cluster = aks ? `AKS cluster ${aks.placement[r.name].name} in ${aks.placement[r.name].resourceGroup}, Entra ID tokens + RBAC` : `context ${r.context}`
    lines.push(`${r.name.padEnd(11)} Kubernetes API ${r.server} (${cluster}); Cassandra ${r.datacenter}/${r.rack}: ${pods || 'not installed yet'}`)
  }
  lines.push(`ingress     ${st.traffic?.url} -> ${Object.entries(st.traffic?.regions ?? {}).map(([r, x]) => `${r} (weight ${x.weight}, ${x.replicas} ${SERVICE} replicas)`).join(', ')}`)
  lines.push(`Azure       ARM + Entra ID ${s.azure.url} (CA ${relative(ROOT, s.azure.caFile)}), GitHub OIDC ${s.azure.oidcUrl}${aks ? `; cluster tokens live ${aks.tokenLifetimeSec}s, GitHub ID tokens ${aks.idTokenLifetimeSec}s` : ''}`)
  lines.push(`repository  ${relative(ROOT, s.workspace)}: .github/mr-topology.yml, overrides/overrides-${SOURCE}.yaml`)
  return lines
}

function writeRepoFiles(workspace: string, st: WorldState, arm: AzureDoubles, mode: KubeMode): { topology: string } {
  mkdirSync(join(workspace, '.github'), { recursive: true })
  mkdirSync(join(workspace, 'overrides'), { recursive: true })
  const source = st.regions.find((r) => r.role === 'source')!
  const overrides = `# Apigee hybrid overrides of the original region (${source.name}).
# configure-seed-host copies this file for the new region and sets the seed host, datacenter and rack.
instanceID: "sandbox-${source.name}"   # unique per installation
k8sCluster:
  name: ${source.context}
  region: ${source.name}
org: ${st.org}
cassandra:
  # AKS "island" networking: pod IPs of two clusters cannot reach each other, so Cassandra uses
  # the node network in every region.
  hostNetwork: true
  clusterName: ${st.clusterName}   # the same in every region
  datacenter: ${source.datacenter}
  rack: ${source.rack}
`
  writeFileSync(join(workspace, 'overrides', `overrides-${source.name}.yaml`), overrides)
  const regions: Record<string, unknown> = {}
  for (const r of st.regions) {
    regions[r.name] = {
      azure: { subscription: SUBSCRIPTIONS[r.name], resourceGroup: `rg-hybrid-${r.name}`, vnet: `vnet-${r.name}`, nsg: `nsg-${r.name}`, addressSpace: ADDRESS_SPACES[r.name] },
      // AKS: the cluster by name (subscription and resource group from azure: above), no kubeconfig
      ...(mode === 'aks' ? { aks: { name: st.aks!.placement[r.name].name }, kube: { namespace: st.namespace } } : { kube: { context: r.context, kubeconfig: st.kubeconfig, namespace: st.namespace } }),
      cassandra: { datacenter: r.datacenter, rack: r.rack, overrides: `overrides/overrides-${r.name}.yaml` },
      // one ingress for all regions; a response says where it came from (body for one, header for the other)
      ingress: r.name === SOURCE ? { url: `${st.traffic!.url}/hello`, body: `"region":"${r.name}"` } : { url: `${st.traffic!.url}/hello`, header: `x-region: ^${r.name}$` },
      service: { deployment: SERVICE, namespace: st.namespace }
    }
  }
  const doc = {
    azure: { endpoint: arm.url, authorityHost: arm.url, ca: arm.caFile },
    cassandra: { namespace: st.namespace, clusterName: st.clusterName, credentialsSecret: 'apigee-datastore-default-creds', caSecret: 'apigee-ca', caNamespace: 'cert-manager' },
    regions
  }
  const topology = join(workspace, '.github', 'mr-topology.yml')
  writeFileSync(
    topology,
    `# The sandbox world described once (written by scripts/demo.ts). azure: points every Azure call at
# the local ARM/Entra double and trusts its CA; in a real repository leave it out (public cloud) or
# set the sovereign cloud's endpoints.
${YAML.stringify(doc, { lineWidth: 0 })}`
  )
  return { topology }
}

export async function stopSandbox(s: { arm?: ArmDouble; runDir: string }): Promise<string[]> {
  const done: string[] = []
  if (s.arm) {
    await s.arm.close().catch(() => {})
    done.push('ARM double closed')
  }
  done.push(...(await down(s.runDir)))
  return done
}
