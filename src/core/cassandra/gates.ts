// Gates checked before any ALTER KEYSPACE: the ring must be healthy and agree on the schema,
// and every RF must be satisfiable. Each failed gate names the node / keyspace at fault.
import { altered, rfOf, type Plan } from './keyspaces.ts'
import { schemaVersions, unreachableNodes, type ClusterDescription, type RingNode } from './status.ts'

export interface Gate {
  name: string
  ok: boolean
  detail: string
}

const nodeName = (n: RingNode): string => `${n.address} (${n.datacenter}/${n.rack}, ${n.status}${n.state})`

export function liveNodes(ring: RingNode[], dc: string): RingNode[] {
  return ring.filter((n) => n.datacenter === dc && n.status === 'U' && n.state === 'N')
}

export function datacenters(ring: RingNode[]): string[] {
  return [...new Set(ring.map((n) => n.datacenter))]
}

/** Every node Up and Normal. */
export function gateAllUN(ring: RingNode[]): Gate {
  const bad = ring.filter((n) => n.status !== 'U' || n.state !== 'N')
  return {
    name: 'every node UN',
    ok: ring.length > 0 && bad.length === 0,
    detail: ring.length === 0 ? 'nodetool status listed no node' : bad.length ? `not Up/Normal: ${bad.map(nodeName).join(', ')}` : `${ring.length} nodes UN`
  }
}

/** One schema version and no unreachable node of the ring (`ring`: see unreachableNodes). */
export function gateSchema(d: ClusterDescription, ring?: RingNode[]): Gate[] {
  const versions = schemaVersions(d)
  const unreachable = unreachableNodes(d, ring)
  // describecluster's Unreachable count includes the endpoints that left the ring too
  const leftRing = unreachableNodes(d).length - unreachable.length
  const unreachableCount = Math.max(0, (d.unreachable ?? 0) - leftRing)
  return [
    {
      name: 'one schema version',
      ok: versions.length === 1,
      detail:
        versions.length === 1
          ? `schema ${versions[0]}`
          : `schema disagreement: ${versions.map((v) => `${v}: [${d.schemaVersions[v].join(', ')}]`).join('; ') || 'no version reported'}`
    },
    {
      name: 'no unreachable node',
      ok: unreachable.length === 0 && unreachableCount === 0,
      detail: unreachable.length || unreachableCount ? `unreachable: ${unreachable.join(', ') || `${unreachableCount} node(s)`}` : `${d.live ?? '?'} live`
    }
  ]
}

/** The datacenters named exist in the ring (add: source and target; remove: the kept ones). */
export function gateDatacenters(ring: RingNode[], plan: Plan): Gate[] {
  const dcs = datacenters(ring)
  const gates: Gate[] = []
  const known = (dc: string): boolean => dcs.includes(dc)
  if (plan.mode === 'add') {
    for (const [role, dc] of [
      ['source', plan.sourceDc],
      ['target', plan.targetDc]
    ] as const) {
      gates.push({
        name: `${role} datacenter in the ring`,
        ok: known(dc),
        detail: known(dc) ? `'${dc}': ${ring.filter((n) => n.datacenter === dc).length} node(s)` : `'${dc}' is not in the ring; datacenters: ${dcs.join(', ')}`
      })
    }
  }
  // Cassandra 4.0+ refuses an ALTER whose map names a DC without nodes ("Unrecognized strategy option").
  const stale: string[] = []
  for (const i of altered(plan)) {
    for (const dc of Object.keys(i.after ?? {})) if (!known(dc) && (plan.mode === 'remove' || dc !== plan.targetDc)) stale.push(`${i.keyspace}: '${dc}'`)
  }
  gates.push({
    name: 'replicated datacenters exist',
    ok: stale.length === 0,
    detail: stale.length ? `keyspaces name datacenters with no node in the ring: ${stale.join(', ')}` : 'every datacenter named exists'
  })
  return gates
}

/** RF of the target DC <= its live (UN) nodes, per altered keyspace. */
export function gateRf(ring: RingNode[], plan: Plan): Gate {
  if (plan.mode !== 'add') return { name: 'RF <= live nodes', ok: true, detail: 'not adding replicas' }
  const live = liveNodes(ring, plan.targetDc).length
  const over = altered(plan).filter((i) => (rfOf(i.after?.[plan.targetDc]) ?? 0) > live)
  return {
    name: `RF <= live nodes of '${plan.targetDc}'`,
    ok: over.length === 0,
    detail: over.length
      ? `'${plan.targetDc}' has ${live} live node(s) but ${over.map((i) => `'${i.keyspace}' asks RF ${i.after?.[plan.targetDc]}`).join(', ')}`
      : `${live} live node(s)`
  }
}

export function checkGates(ring: RingNode[], describe: ClusterDescription, plan: Plan): Gate[] {
  return [gateAllUN(ring), ...gateSchema(describe, ring), ...gateDatacenters(ring, plan), gateRf(ring, plan)]
}

export const failedGates = (gates: Gate[]): Gate[] => gates.filter((g) => !g.ok)
