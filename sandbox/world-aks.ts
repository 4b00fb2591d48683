// The AKS part of the sandbox world (WorldOptions.aks): an ARM double with an Entra ID double and
// a GitHub OIDC double, one Microsoft.ContainerService/managedClusters per region pointing at that
// region's Kubernetes API double, which then validates Entra tokens and enforces RBAC as AKS with
// Entra ID integration does. The world's own setup keeps the clusters' static admin token; an
// action reaches a cluster only through listClusterUserCredential + kubelogin (workloadidentity).
// Runs inside the world daemon; clients find everything in WorldState.aks.
import { AKS_SERVER_APP_ID } from './arm/entra.ts'
import { startArmDouble, type ArmDouble } from './arm/server.ts'
import type { EntraTokenReview, KubeCluster } from './kube/index.ts'

export interface WorldAksOptions {
  /** lifetime of the Entra access tokens (seconds); default 3599 */
  tokenLifetimeSec?: number
  subscription?: string
  resourceGroup?: string
  /** bind the app's service principal to cluster-admin in every cluster (default false: tests apply the documented Role) */
  clusterAdmin?: boolean
}

export interface WorldAksState {
  /** ARM endpoint and Entra authority host (one HTTPS server) */
  armUrl: string
  /** AZURE_AUTHORITY_HOST as kubelogin wants it (trailing slash) */
  authorityHost: string
  /** PEM file of the ARM/Entra double's CA (SSL_CERT_FILE for kubelogin, azure-ca for the actions) */
  caFile: string
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
  tokenLifetimeSec: number
  /** the topology file with regions.<r>.aks: { subscription, resourceGroup, name } (no kubeconfig) */
  topology?: string
}

export interface WorldAks {
  arm: ArmDouble
  state: WorldAksState
  /** what each Kubernetes double needs to validate the tokens (startKubeCluster's `entra`) */
  review: EntraTokenReview
  /** registers a region's cluster as a managed cluster (and the cluster-admin binding when asked) */
  addCluster(region: string, kube: KubeCluster): void
  /** runtime knobs for tests: token lifetime, the subject of the next GitHub ID tokens */
  tune(o: { tokenLifetimeSec?: number; idTokenSubject?: string }): WorldAksState
  close(): Promise<void>
}

export async function startWorldAks(o: WorldAksOptions, tlsDir: string): Promise<WorldAks> {
  const arm = await startArmDouble({ tlsDir, tokenLifetimeSec: o.tokenLifetimeSec })
  const state: WorldAksState = {
    armUrl: arm.url,
    authorityHost: `${arm.url}/`,
    caFile: arm.caFile,
    tenantId: arm.tenantId,
    clientId: arm.clientId,
    objectId: arm.entra.apps.get(arm.clientId)!.objectId,
    subscription: o.subscription ?? '5f3c0f4e-0000-4000-8000-00000000a1c5',
    resourceGroup: o.resourceGroup ?? 'apigee-hybrid-rg',
    runnerEnv: arm.runnerEnv(),
    clusters: {},
    tokenLifetimeSec: arm.entra.tokenLifetimeSec
  }
  return {
    arm,
    state,
    review: { issuer: arm.entra.issuer, audience: AKS_SERVER_APP_ID, jwks: () => arm.entra.jwks() },
    addCluster(region, kube) {
      arm.addManagedCluster({ subscription: state.subscription, resourceGroup: state.resourceGroup, name: kube.name, location: region, server: kube.url, ca: kube.ca })
      state.clusters[region] = kube.name
      if (o.clusterAdmin) {
        kube.apply({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name: 'mr-actions-cluster-admin' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: state.objectId }]
        })
      }
    },
    tune(t) {
      if (t.tokenLifetimeSec !== undefined) arm.entra.tokenLifetimeSec = t.tokenLifetimeSec
      if (t.idTokenSubject !== undefined) arm.idTokenSubject = t.idTokenSubject
      state.tokenLifetimeSec = arm.entra.tokenLifetimeSec
      return state
    },
    close: () => arm.close()
  }
}
