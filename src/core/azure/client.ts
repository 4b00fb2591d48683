// Azure access for the actions: the credential chain (GitHub OIDC federation first, then the
// Azure CLI login of azure/login) and the network calls over the real @azure/arm-network client.
// This module is the only one that loads the Azure SDK; actions import it lazily (see main.ts)
// so that their cold start does not pay for it before the first log line.
import * as core from '@actions/core'
import { NetworkManagementClient, type VirtualNetworkPeering, type SecurityRule } from '@azure/arm-network'
import { AzureCliCredential, ChainedTokenCredential, ClientAssertionCredential, type TokenCredential } from '@azure/identity'
import { ActionError, PreflightError } from '../errors.ts'
import type { ExistingRule, RuleSpec } from './nsg-plan.ts'
import type { PeeringFlags, PeeringState, VnetState } from './peering-plan.ts'

export const PUBLIC_ARM = 'https://management.azure.com'

export interface AzureSettings {
  /** ARM endpoint, e.g. https://management.azure.com (or the sandbox). */
  endpoint: string
  /** Entra ID authority host, e.g. https://login.microsoftonline.com (or the sandbox). */
  authorityHost?: string
  /** PEM of an extra CA to trust for ARM and Entra (private endpoints, the sandbox). */
  ca?: string
  tenantId?: string
  clientId?: string
}

/** Needed for the error hints: the permissions the action uses. */
export const PERMISSIONS_HINT =
  'the identity needs, on both VNets: Microsoft.Network/virtualNetworks/read, virtualNetworks/virtualNetworkPeerings/read and /write, ' +
  'virtualNetworks/peer/action (on the remote VNet); on the NSGs: networkSecurityGroups/read and networkSecurityGroups/securityRules/read and /write. ' +
  "The built-in role 'Network Contributor' on both resource groups covers all of them"

export interface CredentialChoice {
  credential: TokenCredential
  description: string
}

/**
 * OIDC federation when client-id and tenant-id are given and the job may request an ID token
 * (permissions: id-token: write): ClientAssertionCredential whose callback asks GitHub for a
 * fresh ID token each time (a cached one expires after minutes), chained with the Azure CLI
 * (azure/login) as the fallback. Without client/tenant: the Azure CLI alone.
 */
export function makeCredential(s: AzureSettings, o: { cliFallback?: boolean } = {}): CredentialChoice {
  const tls = s.ca ? { tlsOptions: { ca: s.ca } } : {}
  const cli = new AzureCliCredential(s.tenantId ? { tenantId: s.tenantId } : {})
  if (s.tenantId && s.clientId) {
    if (!process.env.ACTIONS_ID_TOKEN_REQUEST_URL) {
      core.warning("client-id and tenant-id are set but the job cannot request an OIDC token (add 'permissions: id-token: write'); trying the Azure CLI login instead")
      return { credential: cli, description: 'Azure CLI (no OIDC token available)' }
    }
    const oidc = new ClientAssertionCredential(s.tenantId, s.clientId, () => core.getIDToken('api://AzureADTokenExchange'), {
      ...(s.authorityHost ? { authorityHost: s.authorityHost, disableInstanceDiscovery: !/login\.microsoftonline\.com/.test(s.authorityHost) } : {}),
      ...tls
    })
    if (o.cliFallback === false) return { credential: oidc, description: `OIDC federation (client ${s.clientId}, tenant ${s.tenantId})` }
    return { credential: new ChainedTokenCredential(oidc, cli), description: `OIDC federation (client ${s.clientId}, tenant ${s.tenantId}), then Azure CLI` }
  }
  return { credential: cli, description: 'Azure CLI (azure/login)' }
}

/** The calls the actions make, shaped as our plan types. */
export interface NetworkApi {
  subscription: string
  getVnet(resourceGroup: string, vnet: string): Promise<VnetState>
  getPeering(resourceGroup: string, vnet: string, name: string): Promise<PeeringState | undefined>
  putPeering(resourceGroup: string, vnet: string, name: string, remoteId: string, flags: PeeringFlags, syncRemoteAddressSpace: boolean): Promise<PeeringState>
  deletePeering(resourceGroup: string, vnet: string, name: string): Promise<void>
  getNsg(resourceGroup: string, nsg: string): Promise<{ id: string; rules: ExistingRule[] }>
  putRule(resourceGroup: string, nsg: string, rule: RuleSpec): Promise<void>
  deleteRule(resourceGroup: string, nsg: string, name: string): Promise<void>
}

function peeringState(p: VirtualNetworkPeering): PeeringState {
  return {
    name: p.name ?? '',
    id: p.id,
    remoteId: p.remoteVirtualNetwork?.id,
    peeringState: p.peeringState,
    peeringSyncLevel: p.peeringSyncLevel,
    provisioningState: p.provisioningState,
    allowVirtualNetworkAccess: p.allowVirtualNetworkAccess,
    allowForwardedTraffic: p.allowForwardedTraffic,
    allowGatewayTransit: p.allowGatewayTransit,
    useRemoteGateways: p.useRemoteGateways
  }
}

function ruleState(r: SecurityRule): ExistingRule {
  return {
    name: r.name ?? '',
    priority: r.priority,
    direction: r.direction,
    access: r.access,
    protocol: r.protocol,
    sourcePortRange: r.sourcePortRange,
    sourcePortRanges: r.sourcePortRanges,
    sourceAddressPrefix: r.sourceAddressPrefix,
    sourceAddressPrefixes: r.sourceAddressPrefixes,
    destinationAddressPrefix: r.destinationAddressPrefix,
    destinationAddressPrefixes: r.destinationAddressPrefixes,
    destinationPortRange: r.destinationPortRange,
    destinationPortRanges: r.destinationPortRanges,
    description: r.description
  }
}

interface RestLike {
  statusCode?: number
  code?: string
  message: string
  name?: string
}

/** Turns SDK errors into errors that say what was being done and how to fix it. */
export function explain(e: unknown, what: string): Error {
  if (e instanceof ActionError) return e
  const r = e as RestLike
  const name = r?.name ?? ''
  if (name === 'AuthenticationError' || name === 'AuthenticationRequiredError' || name === 'CredentialUnavailableError' || name === 'AggregateAuthenticationError') {
    return new ActionError(
      `could not authenticate to Azure while trying to ${what}: ${firstLines(r.message)}`,
      "with OIDC: set inputs client-id and tenant-id, give the job 'permissions: id-token: write', and add a federated credential for this repository to the app registration; or run azure/login before this step"
    )
  }
  const status = r?.statusCode
  const code = r?.code ? `${r.code}: ` : ''
  if (status === 401 || status === 403) return new ActionError(`Azure refused to ${what} (${status} ${code}${firstLines(r.message)})`, PERMISSIONS_HINT)
  if (status === 404) return new PreflightError(`${what}: not found (${code}${firstLines(r.message)})`, 'check the subscription, resource group and name (inputs or topology), and that the identity can read them')
  if (status !== undefined) return new ActionError(`Azure answered ${status} when trying to ${what}: ${code}${firstLines(r.message)}`)
  return new ActionError(`failed to ${what}: ${firstLines(r?.message ?? String(e))}`)
}

const firstLines = (m: string): string => m.split('\n').slice(0, 3).join(' ').slice(0, 600)

async function call<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f()
  } catch (e) {
    throw explain(e, what)
  }
}

export interface ConnectOptions {
  /** LRO poll interval when the service sends no Retry-After. */
  pollMs?: number
}

/** A NetworkApi per subscription, sharing one credential. */
export function connect(s: AzureSettings, o: ConnectOptions = {}): { forSubscription: (subscription: string) => NetworkApi; credential: CredentialChoice } {
  const credential = makeCredential(s)
  const scope = `${(s.endpoint || PUBLIC_ARM).replace(/\/+$/, '')}/.default`
  const clients = new Map<string, NetworkApi>()
  const poll = { updateIntervalInMs: o.pollMs ?? 2000 }
  const forSubscription = (subscription: string): NetworkApi => {
    const have = clients.get(subscription)
    if (have) return have
    const c = new NetworkManagementClient(credential.credential, subscription, {
      endpoint: s.endpoint,
      credentials: { scopes: [scope] },
      retryOptions: { maxRetries: 6, retryDelayInMs: 500, maxRetryDelayInMs: 15000 },
      userAgentOptions: { userAgentPrefix: 'mr-actions' },
      ...(s.ca ? { tlsOptions: { ca: s.ca } } : {})
    })
    const api: NetworkApi = {
      subscription,
      getVnet: (rg, vnet) =>
        call(`read virtual network ${vnet} in resource group ${rg} (subscription ${subscription})`, async () => {
          const v = await c.virtualNetworks.get(rg, vnet)
          const peerings: PeeringState[] = []
          for await (const p of c.virtualNetworkPeerings.list(rg, vnet)) peerings.push(peeringState(p))
          return { id: v.id ?? '', addressPrefixes: v.addressSpace?.addressPrefixes ?? [], peerings }
        }),
      getPeering: (rg, vnet, name) =>
        call(`read peering ${name} of ${vnet}`, async () => {
          try {
            return peeringState(await c.virtualNetworkPeerings.get(rg, vnet, name))
          } catch (e) {
            if ((e as RestLike).statusCode === 404) return undefined
            throw e
          }
        }),
      putPeering: (rg, vnet, name, remoteId, flags, sync) =>
        call(`${sync ? 'sync' : 'create or update'} peering ${name} of ${vnet}`, async () =>
          peeringState(
            await c.virtualNetworkPeerings.createOrUpdate(rg, vnet, name, { remoteVirtualNetwork: { id: remoteId }, ...flags }, { ...poll, ...(sync ? { syncRemoteAddressSpace: 'true' } : {}) })
          )
        ),
      deletePeering: (rg, vnet, name) => call(`delete peering ${name} of ${vnet}`, async () => void (await c.virtualNetworkPeerings.delete(rg, vnet, name, poll))),
      getNsg: (rg, nsg) =>
        call(`read network security group ${nsg} in resource group ${rg} (subscription ${subscription})`, async () => {
          const g = await c.networkSecurityGroups.get(rg, nsg)
          return { id: g.id ?? '', rules: (g.securityRules ?? []).map(ruleState) }
        }),
      putRule: (rg, nsg, rule) =>
        call(`create or update rule ${rule.name} in network security group ${nsg}`, async () => {
          const { name, ...props } = rule
          await c.securityRules.createOrUpdate(rg, nsg, name, props, poll)
        }),
      deleteRule: (rg, nsg, name) => call(`delete rule ${name} in network security group ${nsg}`, async () => void (await c.securityRules.delete(rg, nsg, name, poll)))
    }
    clients.set(subscription, api)
    return api
  }
  return { forSubscription, credential }
}
