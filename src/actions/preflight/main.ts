// Root action: the preflight of a whole promotion. Reads the topology, then (online: true) what
// Azure, both clusters and the source ring say; prints the plan; changes nothing.
//   1. Offline: the topology alone (regions, datacenters, contexts, Azure fields, ranges, files).
//   2. Online, in parallel, read-only: both VNets (ranges, default-name peerings), both kube
//      contexts, the source region's Cassandra (pods, ring, target DC name free, seed candidates,
//      the keyspace plan expand-keyspaces would apply).
//   3. Every finding in one table (each naming the object and the fix); errors fail the step.
//   4. The plan (with the online facts) as output `plan` and as the job summary, with a diagram.
import * as core from '@actions/core'
import { PreflightError } from '../../core/errors.ts'
import { runAction } from '../../core/entry.ts'
import { rules } from '../../core/patterns.ts'
import { textTable } from '../../core/report.ts'
import { loadTopology, type Topology } from '../../core/topology.ts'
import { readAzureInputs, type AzureInputs } from '../../core/azure/settings.ts'
import { PLAN_HEADERS, planRows } from '../../core/cassandra/keyspaces.ts'
import { offlineChecks, type Finding } from './checks.ts'
import { asFinding, kubeOf, runAzure, runCassandra, runKube, type OnlineFacts } from './online.ts'
import { aksProblems } from '../../core/kube/aks.ts'

const peeringLabel = (p: { exists: boolean; state?: string; action?: string } | undefined): string =>
  !p ? 'not read' : p.action === 'refused' ? 'stale peering: refused' : p.exists ? `${p.state ?? '?'} (${p.action})` : 'not peered yet'

export function mermaid(topo: Topology, source: string, target: string, facts?: OnlineFacts): string {
  const s = topo.regions[source]
  const t = topo.regions[target]
  const dcs = facts?.cassandra?.datacenters ?? {}
  const count = (dc: string | undefined): string => {
    if (!facts?.cassandra || !dc) return ''
    const d = dcs[dc]
    return d ? `<br/>${d.up}/${d.nodes} nodes UN` : '<br/>no nodes yet'
  }
  const ranges = (role: 'source' | 'target'): string => {
    const v = facts?.azure?.[role]
    return v ? `<br/>${v.addressPrefixes.join(', ')}` : ''
  }
  const reach = (region: string): string => {
    const k = facts?.kube.find((x) => x.region === region)
    return k && !k.reachable ? '<br/>context UNREACHABLE' : ''
  }
  const node = (key: string, r: typeof s, role: 'source' | 'target'): string =>
    `  ${key}["${key}<br/>vnet ${r.azure.vnet ?? '?'}${ranges(role)}<br/>${r.cassandra.datacenter ?? '?'} / ${r.cassandra.rack ?? 'ra-1'}${count(r.cassandra.datacenter)}${reach(key)}"]`
  const peer = facts?.azure?.source
    ? `VNet peering: ${peeringLabel(facts.azure.source.peering)} / ${peeringLabel(facts.azure.target?.peering)}, TCP 7000-7001`
    : 'VNet peering, TCP 7000-7001'
  return [
    '```mermaid',
    'flowchart LR',
    node(source, s, 'source'),
    node(target, t, 'target'),
    `  ${source} <-- "${peer}" --> ${target}`,
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
    const online = inputs.bool('online', { default: true }) ?? true
    inputs.done()

    const topo = loadTopology(path)
    const stages = { network: !skip.includes('network'), seed: !skip.includes('seed'), verify: !skip.includes('verify') }
    let azure: AzureInputs | undefined
    const aksRegions = [source, target].filter((r) => topo.regions[r]?.aks)
    if (online && (stages.network || aksRegions.length)) azure = readAzureInputs(inputs, topo)
    if (azure && online) for (const p of aksRegions.length ? aksProblems(azure, `topology regions.${aksRegions[0]}.aks`) : []) inputs.fail(p)
    inputs.done()

    // 1. Offline.
    const workspace = process.env.GITHUB_WORKSPACE || process.cwd()
    const findings: Finding[] = offlineChecks({ topo, source, target, workspace, stages })

    // 2. Online, read-only, everything in parallel; a failed reading is a finding, not a stop.
    let facts: OnlineFacts | undefined
    let keyspaceNote = ''
    let keyspaceRows: (string | number)[][] = []
    const src = topo.regions[source]
    const dst = topo.regions[target]
    if (online && src && dst && source !== target) {
      core.info('online checks: reading Azure, both clusters and the source ring (nothing is changed)')
      facts = { kube: [] }
      const f = facts
      const namespace = (r: typeof src) => r.kube.namespace ?? topo.cassandra.namespace
      const kubes = { source: kubeOf(src, azure), target: kubeOf(dst, azure) }
      const names = { namespace: topo.cassandra.namespace, credentialsSecret: topo.cassandra.credentialsSecret, caNamespace: topo.cassandra.caNamespace, caSecret: topo.cassandra.caSecret }
      const tasks: Promise<void>[] = [
        ...([['source', src], ['target', dst]] as const).map(([role, r]) =>
          runKube(r, namespace(r), { kube: kubes[role], role, names }).then((k) => {
            f.kube.push(k.facts)
            findings.push(...k.findings)
          })
        ),
        runCassandra(topo, source, target, workspace, (l) => core.info(l), kubes.source).then(
          (c) => {
            f.cassandra = c.facts
            findings.push(...c.findings)
            if (c.plan) {
              keyspaceRows = planRows(c.plan)
              keyspaceNote = `planned with ${c.facts?.keyspaces?.targetNodes} node(s) in '${c.plan.targetDc}' (${c.plannedFrom})`
            }
          },
          (e) => void findings.push(asFinding('cassandra', e))
        )
      ]
      if (azure && stages.network) {
        tasks.push(
          runAzure(topo, source, target, azure, (l) => core.info(l)).then(
            (a) => {
              f.azure = a.facts
              findings.push(...a.findings)
            },
            (e) => void findings.push(asFinding('azure', e))
          )
        )
      }
      await Promise.all(tasks)
      // A check that met a 403 reports what the RBAC check already named: one finding per mistake.
      const lacking = (m: string): string | undefined => /lacks the permission to (.+?)(?: on region .*)?$/.exec(m.split('\n')[0])?.[1]
      const named = new Set(findings.filter((x) => x.check === 'rbac').map((x) => lacking(x.message)))
      const repeats = (x: Finding): boolean => x.check !== 'rbac' && lacking(x.message) !== undefined && named.has(lacking(x.message))
      for (let i = findings.length - 1; i >= 0; i--) if (repeats(findings[i])) findings.splice(i, 1)
      f.kube.sort((a, b) => Number(a.region !== source) - Number(b.region !== source))
    }

    // 3. Findings, all together.
    const errors = findings.filter((f) => f.level === 'error')
    core.info(textTable(['level', 'check', 'finding'], findings.map((f) => [f.level, f.check, f.message])) || 'no findings')
    report.table('Preflight findings', ['level', 'check', 'finding', 'fix'], findings.length ? findings.map((f) => [f.level, f.check, f.message, f.fix]) : [['ok', '-', online ? 'every offline and online check passed' : 'every offline check passed', '-']])
    if (facts) onlineTables(report, facts, keyspaceRows, keyspaceNote)
    if (src && dst) report.note(mermaid(topo, source, target, facts))
    if (errors.length) {
      throw new PreflightError(errors.map((e) => `${e.message}\n  fix: ${e.fix}`).join('\n'))
    }

    // 4. The plan for the later stages.
    const plan = {
      source,
      target,
      sourceDatacenter: src.cassandra.datacenter,
      targetDatacenter: dst.cassandra.datacenter,
      targetRack: dst.cassandra.rack ?? 'ra-1',
      warnings: findings.filter((f) => f.level === 'warning').map((f) => f.message),
      ...(facts ? { online: facts } : {})
    }
    report.set('plan', plan)
    report.output('plan', JSON.stringify(plan))
  })
}

function onlineTables(report: { table: (title: string, headers: string[], rows: (string | number)[][]) => void; note: (t: string) => void }, f: OnlineFacts, keyspaceRows: (string | number)[][], keyspaceNote: string): void {
  const rows: (string | number)[][] = []
  for (const k of f.kube) rows.push([`kube ${k.region}`, k.context, k.reachable ? 'reachable' : `UNREACHABLE: ${k.error ?? ''}`])
  for (const v of [f.azure?.source, f.azure?.target]) {
    if (v) rows.push([`vnet ${v.region}`, v.id.split('/').pop() ?? v.id, `${v.addressPrefixes.join(', ')}; peering ${v.peering.name}: ${peeringLabel(v.peering)}`])
  }
  const c = f.cassandra
  if (c) {
    rows.push([`pods ${c.region}`, c.pods.map((p) => `${p.name} ${p.ip ?? ''}`).join(', '), `${c.pods.filter((p) => p.ready).length}/${c.pods.length} ready`])
    rows.push([`ring ${c.region}`, Object.entries(c.datacenters).map(([dc, d]) => `${dc}: ${d.up}/${d.nodes} UN`).join(', ') || '(not read)', `schema versions: ${c.schemaVersions.length}; unreachable: ${c.unreachable.length}`])
    rows.push(['seed candidates', c.seeds.map((s) => `${s.pod} ${s.ip} (${s.rack})`).join(', ') || '(none)', 'what configure-seed-host would pick (seed-count 1)'])
    if (c.keyspaces) rows.push(['keyspace plan', `${c.keyspaces.alter} to alter, ${c.keyspaces.unchanged} unchanged, ${c.keyspaces.skip} skipped`, keyspaceNote])
  }
  report.table('What was read', ['object', 'name', 'state'], rows)
  if (keyspaceRows.length) report.table(`Keyspace plan (expand-keyspaces; ${keyspaceNote})`, PLAN_HEADERS, keyspaceRows)
}
