// create-vnet-peering mode remove: the network step of a region's decommission (procedure G.4).
// Reads both VNets and NSGs, deletes both peerings and only the NSG rules this suite created for
// the pair; a re-run finds nothing and makes 0 writes.
import * as core from '@actions/core'
import { textTable } from '../../core/report.ts'
import type { Report } from '../../core/report.ts'
import type { NetworkApi } from '../../core/azure/client.ts'
import type { ExistingRule } from '../../core/azure/nsg-plan.ts'
import type { Role, VnetState } from '../../core/azure/peering-plan.ts'
import { planRemoval } from '../../core/azure/remove-plan.ts'
import type { PeeringConfig } from './inputs.ts'

export async function removeNetwork(cfg: PeeringConfig, apis: Record<Role, NetworkApi>, report: Report): Promise<void> {
  const sides = { source: cfg.source, target: cfg.target }
  const vnets = {} as Record<Role, VnetState>
  const nsgs: Partial<Record<Role, { rules: ExistingRule[] }>> = {}
  for (const role of ['source', 'target'] as Role[]) {
    const s = sides[role]
    vnets[role] = await apis[role].getVnet(s.resourceGroup, s.vnet)
    if (s.nsg) nsgs[role] = await apis[role].getNsg(s.resourceGroup, s.nsg)
  }
  const plan = planRemoval(sides, vnets, nsgs)
  const rows = plan.actions.map((a) => [a.kind, `${a.name} in ${a.parent}`])
  core.info(`plan (remove):\n${textTable(['change', 'object'], rows.length ? rows : [['none', 'nothing of this pair is left']])}`)
  for (const k of plan.kept) core.warning(`left alone: ${k}`)
  report.table('Removal plan', ['change', 'object'], rows)
  report.set('plan', plan)
  if (cfg.dryRun) {
    report.status = 'planned'
    report.output('writes', 0)
    report.note(`Dry run: ${plan.actions.length} deletion(s) planned, none made.`)
    return
  }
  for (const a of plan.actions) {
    core.info(`${a.kind} ${a.name} in ${a.parent}`)
    if (a.kind === 'delete-peering') await apis[a.role].deletePeering(a.resourceGroup, a.parent, a.name)
    else await apis[a.role].deleteRule(a.resourceGroup, a.parent, a.name)
  }
  report.output('writes', plan.actions.length)
  for (const role of ['source', 'target'] as Role[]) report.output(`${role}-peering-state`, 'absent')
  if (!plan.actions.length) {
    report.status = 'unchanged'
    report.note('Nothing to remove: no peering of this pair and no rule of ours (0 writes).')
    core.info('no changes: nothing to remove (0 writes)')
  } else report.note(`${plan.actions.length} deletion(s): ${plan.actions.map((a) => a.name).join(', ')}.`)
}
