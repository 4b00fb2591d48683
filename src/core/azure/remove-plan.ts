// Undoing create-vnet-peering for a retired region (mode remove): both peerings, and the NSG
// rules this suite created for the pair (found by name and by the owner mark in their
// description, so a rule someone else made under the same name is never deleted). Pure.
import { ruleNameFor, OWNER_MARK, type ExistingRule } from './nsg-plan.ts'
import { sameId, type Role, type Side, type VnetState } from './peering-plan.ts'

export interface RemoveAction {
  kind: 'delete-peering' | 'delete-rule'
  role: Role
  resourceGroup: string
  /** VNet (peering) or NSG (rule) the object lives in. */
  parent: string
  name: string
}

export interface RemovalPlan {
  actions: RemoveAction[]
  /** Objects left alone, with why (a peering pointing elsewhere, a rule without our mark). */
  kept: string[]
}

export function planRemoval(sides: Record<Role, Side>, vnets: Record<Role, VnetState>, nsgs: Partial<Record<Role, { rules: ExistingRule[] }>>): RemovalPlan {
  const actions: RemoveAction[] = []
  const kept: string[] = []
  for (const role of ['source', 'target'] as Role[]) {
    const peer: Role = role === 'source' ? 'target' : 'source'
    const s = sides[role]
    const p = vnets[role].peerings.find((x) => x.name.toLowerCase() === s.peeringName.toLowerCase())
    if (p && !sameId(p.remoteId, vnets[peer].id)) kept.push(`peering ${p.name} on ${s.vnet}: points at ${p.remoteId ?? '(no remote)'}, not at ${sides[peer].vnet}`)
    else if (p) actions.push({ kind: 'delete-peering', role, resourceGroup: s.resourceGroup, parent: s.vnet, name: p.name })
  }
  for (const role of ['source', 'target'] as Role[]) {
    const peer: Role = role === 'source' ? 'target' : 'source'
    const nsg = nsgs[role]
    if (!nsg || !sides[role].nsg) continue
    for (const name of [ruleNameFor(sides[peer].vnet, 4), ruleNameFor(sides[peer].vnet, 6)]) {
      const r = nsg.rules.find((x) => x.name.toLowerCase() === name.toLowerCase())
      if (!r) continue
      if (!(r.description ?? '').includes(OWNER_MARK)) kept.push(`rule ${r.name} in ${sides[role].nsg}: not created by mr-actions (no '${OWNER_MARK}' in its description)`)
      else actions.push({ kind: 'delete-rule', role, resourceGroup: sides[role].resourceGroup, parent: sides[role].nsg!, name: r.name })
    }
  }
  return { actions, kept }
}
