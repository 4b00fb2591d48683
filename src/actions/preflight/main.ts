// Root action: the preflight of a whole promotion. Reads the topology (and, later in this file,
// the clusters), prints the plan, changes nothing.
import * as core from '@actions/core'
import { PreflightError } from '../../core/errors.ts'
import { runAction } from '../../core/entry.ts'
import { rules } from '../../core/patterns.ts'
import { textTable } from '../../core/report.ts'
import { loadTopology, type Topology } from '../../core/topology.ts'
import { offlineChecks, type Finding } from './checks.ts'

export function mermaid(topo: Topology, source: string, target: string): string {
  const s = topo.regions[source]
  const t = topo.regions[target]
  const node = (key: string, r: typeof s): string =>
    `  ${key}["${key}<br/>vnet ${r.azure.vnet ?? '?'}<br/>${r.cassandra.datacenter ?? '?'} / ${r.cassandra.rack ?? 'ra-1'}"]`
  return [
    '```mermaid',
    'flowchart LR',
    node(source, s),
    node(target, t),
    `  ${source} <-- "VNet peering, TCP 7000-7001" --> ${target}`,
    `  ${source} -. "rebuild streams ${s.cassandra.datacenter} to ${t.cassandra.datacenter}" .-> ${target}`,
    '```'
  ].join('\n')
}

export async function run(): Promise<void> {
  await runAction('preflight', async ({ inputs, report }) => {
    const path = inputs.requiredString('topology')
    const source = inputs.requiredString('source-region', { pattern: rules.region.re, accepted: rules.region.accepted })
    const target = inputs.requiredString('target-region', { pattern: rules.region.re, accepted: rules.region.accepted })
    const skip = inputs.list('skip-stages', { item: /^(network|seed|verify)$/, accepted: 'a list of network, seed, verify' })
    inputs.done()

    const topo = loadTopology(path)
    const workspace = process.env.GITHUB_WORKSPACE || process.cwd()
    const findings: Finding[] = offlineChecks({
      topo,
      source,
      target,
      workspace,
      stages: { network: !skip.includes('network'), seed: !skip.includes('seed'), verify: !skip.includes('verify') }
    })
    const errors = findings.filter((f) => f.level === 'error')
    core.info(textTable(['level', 'check', 'finding'], findings.map((f) => [f.level, f.check, f.message])) || 'no findings')
    report.table('Preflight findings', ['level', 'check', 'finding', 'fix'], findings.map((f) => [f.level, f.check, f.message, f.fix]))
    if (errors.length) {
      throw new PreflightError(errors.map((e) => `${e.message}\n  fix: ${e.fix}`).join('\n'))
    }
    const plan = {
      source,
      target,
      sourceDatacenter: topo.regions[source].cassandra.datacenter,
      targetDatacenter: topo.regions[target].cassandra.datacenter,
      targetRack: topo.regions[target].cassandra.rack ?? 'ra-1',
      warnings: findings.filter((f) => f.level === 'warning').map((f) => f.message)
    }
    report.note(mermaid(topo, source, target))
    report.set('plan', plan)
    report.output('plan', JSON.stringify(plan))
  })
}
