// Microsoft.ContainerService/managedClusters in the ARM double: AKS clusters with Entra ID
// integration (managed AAD, local accounts disabled), each pointing at a Kubernetes API double.
//
//   GET  .../resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}
//   POST .../managedClusters/{name}/listClusterUserCredential[?format=exec|azure]
//        -> { kubeconfigs: [{ name: 'clusterUser', value: <base64 kubeconfig> }] }
//
// The kubeconfig is the one AKS returns for an Entra ID cluster: the cluster's CA inline, and a
// user that runs `kubelogin get-token --environment AzurePublicCloud --server-id <AKS server app>
// --client-id <Azure CLI app> --tenant-id <t> --login devicecode` (exec plugin, v1beta1). Users
// convert it (`kubelogin convert-kubeconfig -l workloadidentity`) for a non-interactive login.
import YAML from 'yaml'
import { AKS_CLIENT_APP_ID, AKS_SERVER_APP_ID } from './entra.ts'

export interface ManagedClusterRecord {
  subscription: string
  resourceGroup: string
  name: string
  location: string
  /** the API server's URL (the Kubernetes API double's, https://127.0.0.1:<port>) */
  server: string
  /** PEM of the CA that signed the API server's certificate */
  ca: string
  kubernetesVersion?: string
}

export type ArmAnswer = [number, unknown]

export class ManagedClusters {
  readonly clusters = new Map<string, ManagedClusterRecord>()
  private readonly tenantId: string

  constructor(tenantId: string) {
    this.tenantId = tenantId
  }

  add(c: ManagedClusterRecord): ManagedClusterRecord {
    this.clusters.set(this.id(c.subscription, c.resourceGroup, c.name).toLowerCase(), c)
    return c
  }

  id(sub: string, rg: string, name: string): string {
    return `/subscriptions/${sub}/resourcegroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}`
  }

  has(sub: string, rg?: string): boolean {
    return [...this.clusters.values()].some((c) => c.subscription.toLowerCase() === sub.toLowerCase() && (rg === undefined || c.resourceGroup.toLowerCase() === rg.toLowerCase()))
  }

  /** One request under .../providers/Microsoft.ContainerService/managedClusters/{name}[/{action}]. */
  handle(method: string, sub: string, rg: string, name: string | undefined, action: string | undefined, url: URL): ArmAnswer {
    if (!name) return [200, { value: [...this.clusters.values()].filter((c) => c.subscription.toLowerCase() === sub.toLowerCase() && c.resourceGroup.toLowerCase() === rg.toLowerCase()).map((c) => this.json(c)) }]
    const c = this.clusters.get(this.id(sub, rg, name).toLowerCase())
    if (!c) {
      return [404, { error: { code: 'ResourceNotFound', message: `The Resource 'Microsoft.ContainerService/managedClusters/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix` } }]
    }
    if (method === 'GET' && action === undefined) return [200, this.json(c)]
    if (method === 'POST' && action?.toLowerCase() === 'listclusterusercredential') {
      const format = (url.searchParams.get('format') ?? 'exec').toLowerCase()
      if (format !== 'exec' && format !== 'azure') {
        return [400, { code: 'BadRequest', details: null, message: `Invalid format '${format}'. Allowed formats: azure, exec.`, subcode: '' }]
      }
      return [200, { kubeconfigs: [{ name: 'clusterUser', value: Buffer.from(this.kubeconfig(c)).toString('base64') }] }]
    }
    if (method === 'POST' && action?.toLowerCase() === 'listclusteradmincredential') {
      return [400, { code: 'BadRequest', details: null, message: 'Getting static credential is not allowed because this cluster is set to disable local accounts.', subcode: '' }]
    }
    return [405, { error: { code: 'MethodNotAllowed', message: `The requested method ${method} is not allowed on ${url.pathname}.` } }]
  }

  /** The managed cluster resource as GET returns it (the fields a client reads). */
  json(c: ManagedClusterRecord): Record<string, unknown> {
    const version = c.kubernetesVersion ?? '1.29.4'
    const fqdn = new URL(c.server).host
    return {
      id: this.id(c.subscription, c.resourceGroup, c.name),
      location: c.location,
      name: c.name,
      type: 'Microsoft.ContainerService/ManagedClusters',
      sku: { name: 'Base', tier: 'Free' },
      identity: { type: 'SystemAssigned', principalId: '00000000-0000-4000-8000-00000000aa01', tenantId: this.tenantId },
      properties: {
        provisioningState: 'Succeeded',
        powerState: { code: 'Running' },
        kubernetesVersion: version,
        currentKubernetesVersion: version,
        dnsPrefix: c.name,
        fqdn,
        azurePortalFQDN: fqdn,
        agentPoolProfiles: [{ name: 'nodepool1', count: 3, vmSize: 'Standard_D8s_v5', osType: 'Linux', mode: 'System', provisioningState: 'Succeeded', powerState: { code: 'Running' } }],
        enableRBAC: true,
        aadProfile: { managed: true, enableAzureRBAC: false, adminGroupObjectIDs: [], tenantID: this.tenantId },
        disableLocalAccounts: true,
        nodeResourceGroup: `MC_${c.resourceGroup}_${c.name}_${c.location}`,
        oidcIssuerProfile: { enabled: false }
      }
    }
  }

  /** The kubeconfig of listClusterUserCredential (format=exec), as AKS writes it. */
  kubeconfig(c: ManagedClusterRecord): string {
    const user = `clusterUser_${c.resourceGroup}_${c.name}`
    return YAML.stringify({
      apiVersion: 'v1',
      clusters: [{ cluster: { 'certificate-authority-data': Buffer.from(c.ca).toString('base64'), server: c.server }, name: c.name }],
      contexts: [{ context: { cluster: c.name, user }, name: c.name }],
      'current-context': c.name,
      kind: 'Config',
      preferences: {},
      users: [
        {
          name: user,
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1beta1',
              args: ['get-token', '--environment', 'AzurePublicCloud', '--server-id', AKS_SERVER_APP_ID, '--client-id', AKS_CLIENT_APP_ID, '--tenant-id', this.tenantId, '--login', 'devicecode'],
              command: 'kubelogin',
              env: null,
              installHint: '\nkubelogin is not installed which is required to connect to AAD enabled cluster.\n\nTo learn more, please go to https://aka.ms/aks/kubelogin\n',
              provideClusterInfo: false
            }
          }
        }
      ]
    })
  }
}
