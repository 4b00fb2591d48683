// The Azure network the ARM double serves: virtual networks with their peerings, network security
// groups with their rules, and the peering state machine as Azure runs it.
//
// Peering state (per peering P on VNet L pointing at remote R):
//   Initiated     until R has a peering pointing back at L;
//   Connected     once both exist (both sides report Connected);
//   Disconnected  when P was Connected and the reverse peering was deleted (Azure then requires
//                 P to be deleted and created again).
// Sync level: P keeps the snapshot of R's address space taken when it was created or last synced
// (PUT with syncRemoteAddressSpace=true). RemoteNotInSync when R's address space changed since;
// LocalNotInSync when the reverse peering holds a stale snapshot of L's; both -> LocalAndRemoteNotInSync.

export interface PeeringRecord {
  name: string
  remoteId: string
  allowVirtualNetworkAccess: boolean
  allowForwardedTraffic: boolean
  allowGatewayTransit: boolean
  useRemoteGateways: boolean
  /** The remote address space as this peering last saw it. */
  remoteSnapshot: string[]
  /** Whether this peering ever reached Connected (for Disconnected). */
  wasConnected: boolean
  provisioningState: 'Updating' | 'Succeeded' | 'Deleting'
  etag: number
}

export interface VnetRecord {
  id: string
  subscription: string
  resourceGroup: string
  name: string
  location: string
  addressPrefixes: string[]
  peerings: Map<string, PeeringRecord>
}

export interface SecurityRuleRecord {
  name: string
  protocol: string
  access: string
  direction: string
  priority: number
  sourcePortRange?: string
  sourcePortRanges?: string[]
  destinationPortRange?: string
  destinationPortRanges?: string[]
  sourceAddressPrefix?: string
  sourceAddressPrefixes?: string[]
  destinationAddressPrefix?: string
  destinationAddressPrefixes?: string[]
  description?: string
  provisioningState: 'Updating' | 'Succeeded'
  etag: number
}

export interface NsgRecord {
  id: string
  subscription: string
  resourceGroup: string
  name: string
  location: string
  rules: Map<string, SecurityRuleRecord>
}

const key = (id: string): string => id.toLowerCase()

export function vnetId(subscription: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscription}/resourceGroups/${resourceGroup}/providers/Microsoft.Network/virtualNetworks/${name}`
}
export function nsgId(subscription: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscription}/resourceGroups/${resourceGroup}/providers/Microsoft.Network/networkSecurityGroups/${name}`
}

const sameSet = (a: string[], b: string[]): boolean => a.length === b.length && [...a].sort().join() === [...b].sort().join()

export class World {
  readonly vnets = new Map<string, VnetRecord>()
  readonly nsgs = new Map<string, NsgRecord>()
  /** Peerings (by lowercased peering id) that stay Initiated whatever happens (a fault). */
  readonly stuck = new Set<string>()
  private etag = 1

  addVnet(v: { subscription: string; resourceGroup: string; name: string; location?: string; addressPrefixes: string[] }): VnetRecord {
    const rec: VnetRecord = {
      id: vnetId(v.subscription, v.resourceGroup, v.name),
      subscription: v.subscription,
      resourceGroup: v.resourceGroup,
      name: v.name,
      location: v.location ?? 'eastus',
      addressPrefixes: [...v.addressPrefixes],
      peerings: new Map()
    }
    this.vnets.set(key(rec.id), rec)
    return rec
  }

  addNsg(n: { subscription: string; resourceGroup: string; name: string; location?: string }): NsgRecord {
    const rec: NsgRecord = {
      id: nsgId(n.subscription, n.resourceGroup, n.name),
      subscription: n.subscription,
      resourceGroup: n.resourceGroup,
      name: n.name,
      location: n.location ?? 'eastus',
      rules: new Map()
    }
    this.nsgs.set(key(rec.id), rec)
    return rec
  }

  vnet(id: string): VnetRecord | undefined {
    return this.vnets.get(key(id))
  }
  nsg(id: string): NsgRecord | undefined {
    return this.nsgs.get(key(id))
  }

  nextEtag(): number {
    return this.etag++
  }

  /** Adds a peering directly (test setup), e.g. one pointing at the wrong remote. */
  seedPeering(local: VnetRecord, name: string, remoteId: string, o: Partial<PeeringRecord> = {}): PeeringRecord {
    const p: PeeringRecord = {
      name,
      remoteId,
      allowVirtualNetworkAccess: true,
      allowForwardedTraffic: false,
      allowGatewayTransit: false,
      useRemoteGateways: false,
      remoteSnapshot: [...(this.vnet(remoteId)?.addressPrefixes ?? [])],
      wasConnected: false,
      provisioningState: 'Succeeded',
      etag: this.nextEtag(),
      ...o
    }
    local.peerings.set(name.toLowerCase(), p)
    this.refreshConnected()
    return p
  }

  /** A remote address-space change: peerings pointing at this VNet become RemoteNotInSync. */
  setAddressSpace(id: string, prefixes: string[]): void {
    const v = this.vnet(id)
    if (!v) throw new Error(`no vnet ${id}`)
    v.addressPrefixes = [...prefixes]
  }

  reverseOf(local: VnetRecord, p: PeeringRecord): PeeringRecord | undefined {
    const remote = this.vnet(p.remoteId)
    if (!remote) return undefined
    for (const q of remote.peerings.values()) if (key(q.remoteId) === key(local.id)) return q
    return undefined
  }

  peeringId(local: VnetRecord, p: PeeringRecord): string {
    return `${local.id}/virtualNetworkPeerings/${p.name}`
  }

  state(local: VnetRecord, p: PeeringRecord): 'Initiated' | 'Connected' | 'Disconnected' {
    if (this.stuck.has(key(this.peeringId(local, p)))) return 'Initiated'
    const q = this.reverseOf(local, p)
    if (q && q.provisioningState === 'Succeeded' && p.provisioningState === 'Succeeded') return 'Connected'
    return p.wasConnected ? 'Disconnected' : 'Initiated'
  }

  syncLevel(local: VnetRecord, p: PeeringRecord): string {
    const remote = this.vnet(p.remoteId)
    const remoteStale = remote ? !sameSet(p.remoteSnapshot, remote.addressPrefixes) : false
    const q = this.reverseOf(local, p)
    const localStale = q ? !sameSet(q.remoteSnapshot, local.addressPrefixes) : false
    if (remoteStale && localStale) return 'LocalAndRemoteNotInSync'
    if (remoteStale) return 'RemoteNotInSync'
    if (localStale) return 'LocalNotInSync'
    return 'FullyInSync'
  }

  /** Marks peerings that are Connected now, so that a later delete of the reverse disconnects them. */
  refreshConnected(): void {
    for (const v of this.vnets.values()) {
      for (const p of v.peerings.values()) if (this.state(v, p) === 'Connected') p.wasConnected = true
    }
  }
}
