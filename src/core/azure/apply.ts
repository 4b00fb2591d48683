// Carrying out a peering plan and the NSG rule plan: writes in the order of the runbook (source
// -> target first, then the reverse), then waits until both peerings report Connected and
// FullyInSync, syncing the remote address space of a peering that reports it is not in sync.
import { pollUntil } from '../wait.ts'
import type { NetworkApi } from './client.ts'
import type { RuleAction } from './nsg-plan.ts'
import { isSettled, type PeeringPlan, type PeeringState, type Role } from './peering-plan.ts'

export interface ApplyPeeringOptions {
  apis: Record<Role, NetworkApi>
  timeoutMs: number
  log: (line: string) => void
  /** First delay between reads while waiting (backoff doubles it up to maxPollMs). */
  pollMs?: number
  maxPollMs?: number
}

export interface PeeringOutcome {
  final: Record<Role, PeeringState>
  writes: number
  syncs: number
}

const NOT_IN_SYNC = new Set(['RemoteNotInSync', 'LocalAndRemoteNotInSync'])
const MAX_SYNCS = 3

export const describeState = (p: PeeringState | undefined): string =>
  p ? `${p.peeringState ?? '?'}/${p.peeringSyncLevel ?? '?'}${p.provisioningState && p.provisioningState !== 'Succeeded' ? ` (${p.provisioningState})` : ''}` : 'absent'

export async function applyPeering(plan: PeeringPlan, o: ApplyPeeringOptions): Promise<PeeringOutcome> {
  let writes = 0
  let syncs = 0
  for (const a of plan.actions) {
    const api = o.apis[a.side.role]
    const { resourceGroup: rg, vnet, peeringName: name } = a.side
    switch (a.kind) {
      case 'keep':
        o.log(`peering ${name}: exists, nothing to do (${a.reason})`)
        break
      case 'recreate':
      case 'create':
      case 'update': {
        if (a.kind === 'recreate') {
          o.log(`peering ${name}: deleting (${a.reason})`)
          await api.deletePeering(rg, vnet, name)
          writes++
        }
        o.log(`peering ${name}: ${a.kind === 'update' ? `updating (${a.reason})` : `creating ${vnet} -> ${a.remoteId.split('/').pop()}`}`)
        const p = await api.putPeering(rg, vnet, name, a.remoteId, a.flags, false)
        writes++
        o.log(`peering ${name}: ${describeState(p)}`)
        break
      }
      case 'sync': {
        o.log(`peering ${name}: syncing the remote address space (${a.reason})`)
        await api.putPeering(rg, vnet, name, a.remoteId, a.flags, true)
        writes++
        syncs++
        break
      }
    }
  }

  const [src, dst] = plan.actions
  const last: Partial<Record<Role, PeeringState>> = {}
  const syncedAt: Record<Role, number> = { source: 0, target: 0 }
  const final = await pollUntil(
    async () => {
      for (const a of plan.actions) {
        const role = a.side.role
        const p = await o.apis[role].getPeering(a.side.resourceGroup, a.side.vnet, a.side.peeringName)
        const before = describeState(last[role])
        last[role] = p
        if (describeState(p) !== before) o.log(`peering ${a.side.peeringName}: ${describeState(p)}`)
        if (p && p.peeringState === 'Connected' && NOT_IN_SYNC.has(p.peeringSyncLevel ?? '') && syncedAt[role] < MAX_SYNCS) {
          o.log(`peering ${a.side.peeringName}: ${p.peeringSyncLevel}, syncing the remote address space`)
          last[role] = await o.apis[role].putPeering(a.side.resourceGroup, a.side.vnet, a.side.peeringName, a.remoteId, a.flags, true)
          syncedAt[role]++
          writes++
          syncs++
        }
      }
      return isSettled(last.source) && isSettled(last.target) ? { source: last.source!, target: last.target! } : undefined
    },
    {
      timeoutMs: o.timeoutMs,
      initialMs: o.pollMs ?? 2000,
      maxMs: o.maxPollMs ?? 15000,
      what: `peerings ${src.side.peeringName} and ${dst.side.peeringName} to be Connected and FullyInSync`,
      lastState: () => `${src.side.peeringName} ${describeState(last.source)}, ${dst.side.peeringName} ${describeState(last.target)}`,
      hint:
        'a peering stays Initiated while its reverse peering is missing or failed (across tenants the identity also needs virtualNetworks/peer/action on the remote VNet); ' +
        "look at both peerings (az network vnet peering show), fix the cause, and run again: the action resumes where it stopped. Raise input 'timeout' if Azure is only slow"
    }
  )
  return { final, writes, syncs }
}

/** A rule action with where it applies: the side whose NSG it lives in. */
export type PlacedRule = RuleAction & { role: Role; resourceGroup: string }

export async function applyRules(actions: readonly PlacedRule[], apis: Record<Role, NetworkApi>, log: (line: string) => void): Promise<number> {
  let writes = 0
  for (const a of actions) {
    if (a.kind === 'keep') {
      log(`rule ${a.rule.name} in ${a.nsgName}: exists as wanted (priority ${a.rule.priority})`)
      continue
    }
    log(`rule ${a.rule.name} in ${a.nsgName}: ${a.kind === 'create' ? 'creating' : 'updating'} (${a.reason})`)
    await apis[a.role].putRule(a.resourceGroup, a.nsgName, a.rule)
    writes++
  }
  return writes
}
