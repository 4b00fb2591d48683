import { decommissionGates, decommissionSteps } from '../../../src/core/cassandra/decommission-plan.ts'
import { toKeyspaces } from '../../../src/core/cassandra/keyspaces.ts'
import type { RingNode } from '../../../src/core/cassandra/status.ts'

const NTS = 'org.apache.cassandra.locator.NetworkTopologyStrategy'
const node = (address: string, datacenter: string, status: 'U' | 'D' = 'U', state: 'N' | 'L' = 'N'): RingNode => ({ address, datacenter, rack: 'ra-1', status, state, hostId: `h-${address}` }) as RingNode
const pods = [0, 1, 2].map((i) => ({ name: `apigee-cassandra-default-${i}`, address: `127.0.2.${i + 1}` }))

describe('decommissionSteps', () => {
  it('orders the DC nodes from the highest ordinal and picks the step from each node state', () => {
    const ring = [node('127.0.1.1', 'dc-1'), node('127.0.2.1', 'dc-2'), node('127.0.2.2', 'dc-2', 'U', 'L'), node('127.0.2.3', 'dc-2', 'D')]
    expect(decommissionSteps(ring, 'dc-2', pods).map((s) => [s.pod, s.kind, s.hostId])).toEqual([
      ['apigee-cassandra-default-2', 'removenode', 'h-127.0.2.3'],
      ['apigee-cassandra-default-1', 'wait', 'h-127.0.2.2'],
      ['apigee-cassandra-default-0', 'decommission', 'h-127.0.2.1']
    ])
  })
  it('removes nodes without a pod, and every node after an uninstall; nothing when the DC is gone', () => {
    const ring = [node('127.0.1.1', 'dc-1'), node('127.0.2.1', 'dc-2'), node('127.0.2.9', 'dc-2')]
    expect(decommissionSteps(ring, 'dc-2', pods).map((s) => [s.address, s.kind])).toEqual([
      ['127.0.2.1', 'decommission'],
      ['127.0.2.9', 'removenode']
    ])
    expect(decommissionSteps(ring, 'dc-2', pods, { uninstalled: true }).every((s) => s.kind === 'removenode')).toBe(true)
    expect(decommissionSteps([node('127.0.1.1', 'dc-1')], 'dc-2', pods)).toEqual([])
  })
})

describe('decommissionGates', () => {
  const ring = [node('127.0.1.1', 'dc-1'), node('127.0.2.1', 'dc-2')]
  const ks = (dc2: string | undefined) => toKeyspaces([
    { keyspace_name: 'system_auth', replication: { class: NTS, 'dc-1': '1', 'dc-2': '1' } },
    { keyspace_name: 'kvm_org_hybrid', replication: { class: NTS, 'dc-1': '3', ...(dc2 ? { 'dc-2': dc2 } : {}) } }
  ])
  it('passes when only system_auth still names the DC', () => {
    expect(decommissionGates(ring, ks(undefined), 'dc-2', 'dc-1')).toEqual([])
  })
  it('refuses while a keyspace still replicates there, naming it and the replicate-away fix', () => {
    const [e] = decommissionGates(ring, ks('3'), 'dc-2', 'dc-1')
    expect(e.message).toBe(`keyspace(s) kvm_org_hybrid still replicate to 'dc-2': its nodes would stream that data among themselves and the last one could not leave`)
    expect(e.hint).toMatch(/expand-keyspaces mode: remove, target-datacenter: dc-2/)
  })
  it('refuses a misspelled surviving DC and unhealthy survivors', () => {
    expect(decommissionGates(ring, ks(undefined), 'dc-2', 'DC-1')[0].message).toMatch(/datacenter 'DC-1' \(source-datacenter, the one that stays\) is not in the ring; datacenters: dc-1, dc-2/)
    expect(decommissionGates([...ring, node('127.0.1.2', 'dc-1', 'D')], ks(undefined), 'dc-2', 'dc-1')[0].message).toMatch(/surviving nodes are not all UN: 127\.0\.1\.2 \(dc-1, DN\)/)
  })
})
