// create-vnet-peering: the network step of a region promotion (procedure section A).
//   1. Read both virtual networks (address spaces, existing peerings) and the NSGs.
//   2. Plan: refuse overlapping address spaces and name clashes before any write.
//   3. Peer source -> target (it stays Initiated), then target -> source.
//   4. Wait until both report Connected and FullyInSync (sync the remote address space if not).
//   5. Open the Cassandra ports (7000-7001) inbound from the peer's address space in each NSG.
// A re-run against a correct setup makes no writes and says so.
import * as core from '@actions/core'
import { runAction } from '../../core/entry.ts'
import { formatDuration } from '../../core/wait.ts'
import { textTable, type Cell } from '../../core/report.ts'
import { planPeering, type PeeringAction, type Role, type VnetState } from '../../core/azure/peering-plan.ts'
import { planNsgRules, type ExistingRule } from '../../core/azure/nsg-plan.ts'
import type { NetworkApi } from '../../core/azure/client.ts'
import type { PlacedRule } from '../../core/azure/apply.ts'
import { readPeeringInputs } from './inputs.ts'
import { removeNetwork } from './remove.ts'

const ROLES: Role[] = ['source', 'target']

export async function run(): Promise<void> {
  await runAction('create-vnet-peering', async ({ inputs, report }) => {
    const cfg = readPeeringInputs(inputs)
    const { source, target } = cfg
    core.info(`create-vnet-peering${cfg.mode === 'remove' ? ' (mode remove)' : ''}: ${source.vnet} (${source.resourceGroup}) <-> ${target.vnet} (${target.resourceGroup}), ports ${cfg.ports.join(',')}${cfg.dryRun ? ', dry run' : ''}`)

    // The Azure SDK is loaded only now, after the inputs are known to be good.
    const [{ connect }, { applyPeering, applyRules, describeState }] = await Promise.all([import('../../core/azure/client.ts'), import('../../core/azure/apply.ts')])
    const azure = connect(cfg.azure)
    core.info(`authenticating with ${azure.credential.description}; ARM endpoint ${cfg.azure.endpoint}${cfg.azure.caFrom ? `, extra CA ${cfg.azure.caFrom}` : ''}`)
    const apis: Record<Role, NetworkApi> = { source: azure.forSubscription(source.subscription), target: azure.forSubscription(target.subscription) }
    if (cfg.mode === 'remove') return removeNetwork(cfg, apis, report)

    // 1. Read both VNets and NSGs.
    const sides = { source, target }
    const vnets = {} as Record<Role, VnetState>
    const nsgs: Partial<Record<Role, { id: string; rules: ExistingRule[] }>> = {}
    for (const role of ROLES) {
      const s = sides[role]
      vnets[role] = await apis[role].getVnet(s.resourceGroup, s.vnet)
      core.info(`${role} ${s.vnet}: address space ${vnets[role].addressPrefixes.join(', ') || '(none)'}; peerings: ${vnets[role].peerings.map((p) => `${p.name} -> ${p.remoteId?.split('/').pop()} ${p.peeringState}`).join(', ') || 'none'}`)
      if (s.nsg) nsgs[role] = await apis[role].getNsg(s.resourceGroup, s.nsg)
    }

    // 2. Plan (throws on overlap, wrong remote, duplicate peering: nothing has been written).
    const plan = planPeering(source, target, vnets.source, vnets.target, cfg.options)
    const rulePlan: PlacedRule[] = []
    for (const role of ROLES) {
      const nsg = nsgs[role]
      if (!nsg) continue
      const peer: Role = role === 'source' ? 'target' : 'source'
      const existing = [...nsg.rules, ...rulePlan.filter((r) => r.nsgId.toLowerCase() === nsg.id.toLowerCase()).map((r) => r.rule)]
      for (const a of planNsgRules({
        nsgId: nsg.id,
        nsgName: sides[role].nsg!,
        existing,
        sourcePrefixes: vnets[peer].addressPrefixes,
        destinationPrefixes: vnets[role].addressPrefixes,
        ports: cfg.ports,
        peerVnet: sides[peer].vnet
      })) {
        rulePlan.push({ ...a, role, resourceGroup: sides[role].resourceGroup })
        for (const s of a.shadowedBy) core.warning(`NSG ${a.nsgName}: rule ${s} is evaluated before ${a.rule.name} and may block Cassandra traffic from ${sides[peer].vnet}`)
      }
    }
    const plannedWrites = plan.writes + rulePlan.filter((r) => r.kind !== 'keep').length
    core.info('plan:\n' + textTable(['change', 'object', 'why'], [...plan.actions.map(peeringRow), ...rulePlan.map((r) => [r.kind, `rule ${r.rule.name} in ${r.nsgName} (priority ${r.rule.priority})`, r.reason])]))
    if (!source.nsg && !target.nsg) core.info('no NSG given for either side: no rules to open')
    report.set('plan', { peerings: plan.actions.map(({ kind, side, reason }) => ({ kind, peering: side.peeringName, reason })), rules: rulePlan.map(({ kind, nsgName, rule, reason }) => ({ kind, nsg: nsgName, rule, reason })) })

    const peeringIds = { source: plan.actions[0].peeringId, target: plan.actions[1].peeringId }
    report.output('source-peering-id', peeringIds.source)
    report.output('target-peering-id', peeringIds.target)
    if (cfg.dryRun) {
      report.status = 'planned'
      report.note(`Dry run: ${plannedWrites} write(s) planned, none made.`)
      report.table('Plan', ['change', 'object', 'why'], [...plan.actions.map(peeringRow), ...rulePlan.map((r) => [r.kind, `rule ${r.rule.name} in ${r.nsgName}`, r.reason])])
      for (const role of ROLES) report.output(`${role}-peering-state`, plan.actions[role === 'source' ? 0 : 1].state ?? 'absent')
      report.output('writes', 0)
      core.info(`dry run: ${plannedWrites} write(s) planned, none made`)
      return
    }

    // 3 + 4. Peer both directions and wait for Connected / FullyInSync.
    const started = Date.now()
    const outcome = await applyPeering(plan, { apis, timeoutMs: cfg.timeoutMs, log: (l) => core.info(l), pollMs: 1000 })
    // 5. NSG rules for the Cassandra ports.
    const ruleWrites = await applyRules(rulePlan, apis, (l) => core.info(l))
    const writes = outcome.writes + ruleWrites

    for (const role of ROLES) {
      const p = outcome.final[role]
      report.output(`${role}-peering-id`, p.id ?? peeringIds[role])
      report.output(`${role}-peering-state`, p.peeringState ?? '')
      report.output(`${role}-peering-sync-level`, p.peeringSyncLevel ?? '')
    }
    report.output('writes', writes)
    const rulesOf = (role: Role): string =>
      rulePlan
        .filter((r) => r.role === role)
        .map((r) => `${r.rule.name} (${r.rule.destinationPortRanges.join(',')} from ${r.rule.sourceAddressPrefixes.join(',')}, priority ${r.rule.priority}, ${r.kind === 'keep' ? 'kept' : r.kind + 'd'})`)
        .join('<br>') || '(no NSG)'
    report.table(
      'Peerings',
      ['peering', 'VNet -> remote', 'state', 'sync level', 'change', 'NSG rules'],
      plan.actions.map((a) => {
        const p = outcome.final[a.side.role]
        return [a.side.peeringName, `${a.side.vnet} -> ${sides[a.side.role === 'source' ? 'target' : 'source'].vnet}`, p.peeringState, p.peeringSyncLevel, a.kind === 'keep' ? 'none' : a.kind, rulesOf(a.side.role)] as Cell[]
      })
    )
    report.set('peerings', outcome.final)
    report.set('writes', writes)
    if (writes === 0) {
      report.status = 'unchanged'
      report.note('No changes: both peerings were already Connected and FullyInSync and the NSG rules were in place (0 writes).')
      core.info('no changes: everything was already in place (0 writes)')
    } else {
      report.note(`${writes} write(s); both peerings Connected and FullyInSync after ${formatDuration(Date.now() - started)}.`)
      core.info(`done: ${writes} write(s); ${source.peeringName} ${describeState(outcome.final.source)}, ${target.peeringName} ${describeState(outcome.final.target)}`)
    }
  })
}

function peeringRow(a: PeeringAction): Cell[] {
  return [a.kind, `peering ${a.side.peeringName} (${a.side.vnet} -> ${a.remoteId.split('/').pop()})`, a.reason]
}

