// The AKS part of the sandbox world (WorldOptions.aks): an ARM double with an Entra ID double and
// a GitHub OIDC double, one Microsoft.ContainerService/managedClusters per region pointing at that
// region's Kubernetes API double, which then validates Entra tokens and enforces RBAC as AKS with
// Entra ID integration does. The world's own setup keeps the clusters' static admin token; an
// action reaches a cluster only through listClusterUserCredential + kubelogin (workloadidentity).
// The same ARM double can also hold the regions' VNets and NSGs (`network`), so that one ARM
// endpoint and one Entra tenant serve a whole promotion (the demo's AKS mode).
// Runs inside the world daemon; clients find everything in WorldState.aks, and what the doubles
// saw (tokens issued, every Kubernetes request with the credential it came with) at GET /aks/record.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import YAML from 'yaml'
import { PROJECT_ROOT } from './cassandra/cluster.ts'
import { AKS_SERVER_APP_ID, type IssuedToken } from './arm/entra.ts'
import { startArmDouble, type ArmDouble } from './arm/server.ts'
import type { AccessLogEntry, EntraTokenReview, KubeCluster, KubeObject } from './kube/index.ts'

export interface WorldAksOptions {
  /** lifetime of the Entra access tokens (seconds); default 3599 */
  tokenLifetimeSec?: number
  /** lifetime of the GitHub OIDC double's ID tokens (seconds); default 300 */
  idTokenLifetimeSec?: number
  /** where the managed clusters live unless `placement` names a region */
  subscription?: string
  resourceGroup?: string
  /** per region: the subscription and resource group of its managed cluster */
  placement?: Record<string, { subscription: string; resourceGroup: string }>
  /** bind the app's service principal to cluster-admin in every cluster (default false: tests apply the documented Role) */
  clusterAdmin?: boolean
  /** files of docs/rbac applied per region role, bound to the app's service principal (what a cluster admin does once) */
  rbac?: { source?: string[]; target?: string[] }
  /** VNets and NSGs the same ARM double serves (create-vnet-peering's resources) */
  network?: {
    vnets?: { subscription: string; resourceGroup: string; name: string; location?: string; addressPrefixes: string[] }[]
    nsgs?: { subscription: string; resourceGroup: string; name: string; location?: string }[]
  }
}

export interface WorldAksState {
  /** ARM endpoint and Entra authority host (one HTTPS server) */
  armUrl: string
  /** AZURE_AUTHORITY_HOST as kubelogin wants it (trailing slash) */
  authorityHost: string
  /** PEM file of the ARM/Entra double's CA (SSL_CERT_FILE for kubelogin, azure-ca for the actions) */
  caFile: string
  /** the GitHub OIDC double (plain HTTP) */
  oidcUrl: string
  tenantId: string
  clientId: string
  /** the service principal's object id: the user RBAC bindings name */
  objectId: string
  subscription: string
  resourceGroup: string
  /** ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN of a job with id-token: write */
  runnerEnv: Record<string, string>
  /** region name -> managed cluster name */
  clusters: Record<string, string>
  /** region name -> where its managed cluster is */
  placement: Record<string, { subscription: string; resourceGroup: string; name: string }>
  tokenLifetimeSec: number
  idTokenLifetimeSec: number
  /** the topology file with regions.<r>.aks: { subscription, resourceGroup, name } (no kubeconfig) */
  topology?: string
}

/** What the doubles saw, for tests: tokens issued (ids and times, never the tokens) and every Kubernetes request. */
export interface WorldAksRecord {
  /** Entra access tokens issued (ARM and AKS audiences) */
  entraTokens: IssuedToken[]
  /** GitHub ID tokens issued by the OIDC double */
  idTokens: { issuedAt: number; expiresAt: number }[]
  /** per region: the API double's access log (user, credential kind, token id and expiry, status) */
  kube: Record<string, AccessLogEntry[]>
}

export interface WorldAks {
  arm: ArmDouble
  state: WorldAksState
  /** what each Kubernetes double needs to validate the tokens (startKubeCluster's `entra`) */
  review: EntraTokenReview
  /** registers a region's cluster as a managed cluster (and its RBAC: cluster-admin or the documented files) */
  addCluster(region: string, kube: KubeCluster, role?: 'source' | 'target'): void
  /** runtime knobs for tests: token lifetimes, the subject of the next GitHub ID tokens */
  tune(o: { tokenLifetimeSec?: number; idTokenLifetimeSec?: number; idTokenSubject?: string }): WorldAksState
  record(): WorldAksRecord
  close(): Promise<void>
}

/** The objects of a docs/rbac file with every subject's name set to the identity's object ID. */
export function documentedRbac(file: string, objectId: string): KubeObject[] {
  return YAML.parseAllDocuments(readFileSync(join(PROJECT_ROOT, 'docs', 'rbac', file), 'utf8')).map((doc) => {
    const o = doc.toJS() as KubeObject & { subjects?: { name: string }[] }
    for (const s of o.subjects ?? []) s.name = objectId
    return o
  })
}

export async function startWorldAks(o: WorldAksOptions, tlsDir: string): Promise<WorldAks> {
  const arm = await startArmDouble({ tlsDir, tokenLifetimeSec: o.tokenLifetimeSec, idTokenLifetimeSec: o.idTokenLifetimeSec })
  for (const v of o.network?.vnets ?? []) arm.world.addVnet(v)
  for (const n of o.network?.nsgs ?? []) arm.world.addNsg(n)
  const kubes = new Map<string, KubeCluster>()
  const state: WorldAksState = {
    armUrl: arm.url,
    authorityHost: `${arm.url}/`,
    caFile: arm.caFile,
    oidcUrl: arm.oidcUrl,
    tenantId: arm.tenantId,
    clientId: arm.clientId,
    objectId: arm.entra.apps.get(arm.clientId)!.objectId,
    subscription: o.subscription ?? '5f3c0f4e-0000-4000-8000-00000000a1c5',
    resourceGroup: o.resourceGroup ?? 'apigee-hybrid-rg',
    runnerEnv: arm.runnerEnv(),
    clusters: {},
    placement: {},
    tokenLifetimeSec: arm.entra.tokenLifetimeSec,
    idTokenLifetimeSec: arm.idTokenLifetimeSec
  }
  return {
    arm,
    state,
    review: { issuer: arm.entra.issuer, audience: AKS_SERVER_APP_ID, jwks: () => arm.entra.jwks() },
    addCluster(region, kube, role) {
      const where = o.placement?.[region] ?? { subscription: state.subscription, resourceGroup: state.resourceGroup }
      arm.addManagedCluster({ ...where, name: kube.name, location: region, server: kube.url, ca: kube.ca })
      state.clusters[region] = kube.name
      state.placement[region] = { ...where, name: kube.name }
      kubes.set(region, kube)
      if (o.clusterAdmin) {
        kube.apply({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name: 'mr-actions-cluster-admin' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: state.objectId }]
        })
      }
      for (const file of (role && o.rbac?.[role]) ?? []) for (const obj of documentedRbac(file, state.objectId)) kube.apply(obj)
    },
    tune(t) {
      if (t.tokenLifetimeSec !== undefined) arm.entra.tokenLifetimeSec = t.tokenLifetimeSec
      if (t.idTokenLifetimeSec !== undefined) arm.idTokenLifetimeSec = t.idTokenLifetimeSec
      if (t.idTokenSubject !== undefined) arm.idTokenSubject = t.idTokenSubject
      state.tokenLifetimeSec = arm.entra.tokenLifetimeSec
      state.idTokenLifetimeSec = arm.idTokenLifetimeSec
      return state
    },
    record: () => ({
      entraTokens: [...arm.entra.tokens],
      idTokens: [...arm.idTokens],
      kube: Object.fromEntries([...kubes].map(([region, k]) => [region, [...k.accessLog]]))
    }),
    close: () => arm.close()
  }
}
