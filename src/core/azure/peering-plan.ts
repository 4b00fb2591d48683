// The peering plan: from what was read about both VNets (address spaces, existing peerings) to
// the list of changes, refusing every unsafe case before anything is written. Pure functions.
import { PreflightError, type ActionError, InputErrors } from '../errors.ts'
import { overlapPairs } from './cidr.ts'

export type Role = 'source' | 'target'

/** One side of the peering as the user described it. */
export interface Side {
  role: Role
  subscription: string
  resourceGroup: string
  vnet: string
  nsg?: string
  /** Name of the peering that lives on this side's VNet and points at the other side. */
  peeringName: string
}

export interface PeeringState {
  name: string
  id?: string
  remoteId?: string
  peeringState?: string
  peeringSyncLevel?: string
  provisioningState?: string
  allowVirtualNetworkAccess?: boolean
  allowForwardedTraffic?: boolean
  allowGatewayTransit?: boolean
  useRemoteGateways?: boolean
}

/** What was read about a VNet. */
export interface VnetState {
  id: string
  addressPrefixes: string[]
  peerings: PeeringState[]
}

export interface PeeringFlags {
  allowVirtualNetworkAccess: boolean
  allowForwardedTraffic: boolean
  allowGatewayTransit: boolean
  useRemoteGateways: boolean
}

export interface PeeringOptions {
  allowForwardedTraffic: boolean
  /** The source VNet lets the target use its gateway. */
  allowGatewayTransit: boolean
  /** The source VNet uses the target's gateway (the target's peering then allows gateway transit). */
  useRemoteGateways: boolean
}

export type PeeringActionKind = 'create' | 'update' | 'recreate' | 'sync' | 'keep'

export interface PeeringAction {
  kind: PeeringActionKind
  side: Side
  /** The VNet the peering lives on, and the one it points at. */
  vnetId: string
  remoteId: string
  peeringId: string
  flags: PeeringFlags
  /** Why this action (for the plan printout). */
  reason: string
  /** Last state read, when the peering exists. */
  state?: string
  syncLevel?: string
}

export interface PeeringPlan {
  actions: [PeeringAction, PeeringAction]
  /** Number of write requests the actions make (recreate = delete + put). */
  writes: number
}

export const sameId = (a: string | undefined, b: string | undefined): boolean => (a ?? '').toLowerCase() === (b ?? '').toLowerCase()

export function vnetResourceId(s: Pick<Side, 'subscription' | 'resourceGroup' | 'vnet'>): string {
  return `/subscriptions/${s.subscription}/resourceGroups/${s.resourceGroup}/providers/Microsoft.Network/virtualNetworks/${s.vnet}`
}

export function flagsFor(role: Role, o: PeeringOptions): PeeringFlags {
  return role === 'source'
    ? { allowVirtualNetworkAccess: true, allowForwardedTraffic: o.allowForwardedTraffic, allowGatewayTransit: o.allowGatewayTransit, useRemoteGateways: o.useRemoteGateways }
    : { allowVirtualNetworkAccess: true, allowForwardedTraffic: o.allowForwardedTraffic, allowGatewayTransit: o.useRemoteGateways, useRemoteGateways: false }
}

function flagDiff(have: PeeringState, want: PeeringFlags): string[] {
  const out: string[] = []
  for (const k of Object.keys(want) as (keyof PeeringFlags)[]) {
    const h = have[k] ?? false
    if (h !== want[k]) out.push(`${k} ${h} -> ${want[k]}`)
  }
  return out
}

/** Refusals that hold before any write: the same VNet twice, overlapping address spaces. */
export function checkPair(source: Side, target: Side, sv: VnetState, tv: VnetState): ActionError[] {
  const errs: ActionError[] = []
  if (sameId(sv.id, tv.id)) {
    errs.push(new PreflightError(`source and target are the same virtual network ${sv.id}`, 'name two different VNets (inputs source-vnet / target-vnet or the topology regions)'))
    return errs
  }
  if (sv.addressPrefixes.length === 0) errs.push(new PreflightError(`virtual network ${source.vnet} has no address space`, 'give the VNet an address space before peering it'))
  if (tv.addressPrefixes.length === 0) errs.push(new PreflightError(`virtual network ${target.vnet} has no address space`, 'give the VNet an address space before peering it'))
  const pairs = overlapPairs(sv.addressPrefixes, tv.addressPrefixes)
  if (pairs.length) {
    errs.push(
      new PreflightError(
        `address spaces overlap: ${source.vnet} (${sv.addressPrefixes.join(', ')}) and ${target.vnet} (${tv.addressPrefixes.join(', ')}): ${pairs.map(([a, b]) => `${a} overlaps ${b}`).join('; ')}`,
        'peered VNets need disjoint address spaces: re-address one of them (every region needs its own range), then run again'
      )
    )
  }
  return errs
}

/** The action for the peering that lives on `local` and points at `remote`, or a refusal. */
export function planDirection(side: Side, local: VnetState, remote: VnetState, flags: PeeringFlags): PeeringAction | ActionError {
  const base = {
    side,
    vnetId: local.id,
    remoteId: remote.id,
    peeringId: `${local.id}/virtualNetworkPeerings/${side.peeringName}`,
    flags
  }
  const same = local.peerings.find((p) => p.name.toLowerCase() === side.peeringName.toLowerCase())
  const other = local.peerings.find((p) => p !== same && sameId(p.remoteId, remote.id))
  if (same && !sameId(same.remoteId, remote.id)) {
    return new PreflightError(
      `peering '${same.name}' on ${side.vnet} already exists and points at ${same.remoteId ?? '(no remote)'}, not at ${remote.id}`,
      `choose another name with input '${side.role}-peering-name', or delete the stale peering '${same.name}' if it is no longer used`
    )
  }
  if (!same && other) {
    return new PreflightError(
      `${side.vnet} is already peered with ${remote.id} through peering '${other.name}' (Azure allows one peering per pair)`,
      `set input '${side.role}-peering-name: ${other.name}' to adopt it, or delete it first`
    )
  }
  if (!same) return { ...base, kind: 'create', reason: 'peering does not exist' }
  const st = { state: same.peeringState, syncLevel: same.peeringSyncLevel }
  if (same.peeringState === 'Disconnected') {
    return { ...base, ...st, kind: 'recreate', reason: 'peering is Disconnected (its reverse was deleted): Azure requires delete and create' }
  }
  const diff = flagDiff(same, flags)
  if (diff.length) return { ...base, ...st, kind: 'update', reason: diff.join(', ') }
  if (same.peeringSyncLevel === 'RemoteNotInSync' || same.peeringSyncLevel === 'LocalAndRemoteNotInSync') {
    return { ...base, ...st, kind: 'sync', reason: `${same.peeringSyncLevel}: sync the remote address space` }
  }
  return { ...base, ...st, kind: 'keep', reason: `exists (${same.peeringState ?? '?'}, ${same.peeringSyncLevel ?? '?'})` }
}

const WRITES: Record<PeeringActionKind, number> = { create: 1, update: 1, recreate: 2, sync: 1, keep: 0 }

/** Plans both directions; throws one error listing every refusal. */
export function planPeering(source: Side, target: Side, sv: VnetState, tv: VnetState, o: PeeringOptions): PeeringPlan {
  const errs = checkPair(source, target, sv, tv)
  if (errs.length === 0) {
    const a = planDirection(source, sv, tv, flagsFor('source', o))
    const b = planDirection(target, tv, sv, flagsFor('target', o))
    for (const x of [a, b]) if (!('kind' in x)) errs.push(x)
    if (errs.length === 0) {
      const actions: [PeeringAction, PeeringAction] = [a as PeeringAction, b as PeeringAction]
      return { actions, writes: actions.reduce((n, x) => n + WRITES[x.kind], 0) }
    }
  }
  if (errs.length === 1) throw errs[0]
  throw new InputErrors(errs)
}

/** True when a peering read back is done: Connected and FullyInSync with the address spaces expected. */
export function isSettled(p: PeeringState | undefined): boolean {
  return p?.peeringState === 'Connected' && p.peeringSyncLevel === 'FullyInSync' && (p.provisioningState ?? 'Succeeded') === 'Succeeded'
}

