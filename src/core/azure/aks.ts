// The AKS cluster's user kubeconfig through ARM (managedClusters/listClusterUserCredential,
// format exec), with the same credential the actions use for every other ARM call. Loads the
// container service SDK, so kube/aks.ts imports this module lazily.
import { ContainerServiceClient } from '@azure/arm-containerservice'
import { ActionError, PreflightError } from '../errors.ts'
import type { RegionAks } from '../topology.ts'
import { explain, makeCredential, PUBLIC_ARM, type AzureSettings } from './client.ts'

/** Azure RBAC the identity needs for listClusterUserCredential. */
export const AKS_ARM_HINT =
  "give the identity the built-in role 'Azure Kubernetes Service Cluster User Role' " +
  '(Microsoft.ContainerService/managedClusters/listClusterUserCredential/action) on the cluster'

interface RestLike {
  statusCode?: number
  code?: string
  message?: string
}

/** The kubeconfig text (YAML) of the cluster's user credential, kubelogin exec format. */
export async function listUserKubeconfig(s: AzureSettings, aks: RegionAks, at: string): Promise<string> {
  // No Azure CLI fallback: AKS mode signs in with the federated identity only (the same one kubelogin uses).
  const credential = makeCredential(s, { cliFallback: false }).credential
  const client = new ContainerServiceClient(credential, aks.subscription, {
    endpoint: s.endpoint,
    credentials: { scopes: [`${(s.endpoint || PUBLIC_ARM).replace(/\/+$/, '')}/.default`] },
    retryOptions: { maxRetries: 4, retryDelayInMs: 500, maxRetryDelayInMs: 8000 },
    userAgentOptions: { userAgentPrefix: 'mr-actions' },
    ...(s.ca ? { tlsOptions: { ca: s.ca } } : {})
  })
  const what = `read the user kubeconfig of AKS cluster ${aks.name} in resource group ${aks.resourceGroup} (subscription ${aks.subscription})`
  let res
  try {
    res = await client.managedClusters.listClusterUserCredentials(aks.resourceGroup, aks.name, { format: 'exec' })
  } catch (e) {
    const r = e as RestLike
    if (r?.statusCode === 404) {
      throw new PreflightError(
        `${at}: AKS cluster '${aks.name}' not found in resource group '${aks.resourceGroup}' (subscription ${aks.subscription}): ${r.code ?? ''} ${firstLine(r.message)}`.trim(),
        `check ${at}.name, .resourceGroup and .subscription (az aks list -o table shows them), and that the identity can read the cluster`
      )
    }
    const name = (e as { name?: string })?.name ?? ''
    if (/^Authentication\w*Error$|^CredentialUnavailableError$|^AggregateAuthenticationError$/.test(name)) {
      throw new ActionError(
        `could not sign in to Azure as client ${s.clientId} to ${what}: ${firstLine(r.message)}`,
        `add a federated credential to that identity whose subject is the one named in the message (repo:ORG/REPO:environment:<environment> for a job in an environment), issuer https://token.actions.githubusercontent.com, audience api://AzureADTokenExchange; check inputs 'client-id' and 'tenant-id'`
      )
    }
    if (r?.statusCode === 403) throw new ActionError(`Azure refused to ${what} (403 ${r.code ?? ''}: ${firstLine(r.message)})`, AKS_ARM_HINT)
    throw explain(e, what)
  }
  const kc = res.kubeconfigs?.find((k) => k.name === 'clusterUser') ?? res.kubeconfigs?.[0]
  if (!kc?.value || kc.value.length === 0) throw new ActionError(`ARM returned no kubeconfig when asked to ${what}`, 'check that the cluster is provisioned (az aks show)')
  return Buffer.from(kc.value).toString('utf8')
}

const firstLine = (m: string | undefined): string => (m ?? '').split('\n').slice(0, 2).join(' ').slice(0, 600)
