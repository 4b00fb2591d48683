import { planReplication, toKeyspaces, type KeyspaceRow } from '../../../src/core/cassandra/keyspaces.ts'
import { dataProblems, localQuorum, quorumProblems, remainingDcs } from '../../../src/core/cassandra/remove-safety.ts'
import type { RingNode } from '../../../src/core/cassandra/status.ts'

const NTS = 'org.apache.cassandra.locator.NetworkTopologyStrategy'
const rows: KeyspaceRow[] = [
  { keyspace_name: 'kvm_org_hybrid', replication: { class: NTS, 'dc-1': '3', 'dc-2': '3', 'dc-3': '3' } },
  { keyspace_name: 'cache_org_hybrid', replication: { class: NTS, 'dc-1': '3', 'dc-2': '3' } },
  { keyspace_name: 'system_auth', replication: { class: NTS, 'dc-1': '3', 'dc-2': '3' } }
]
const node = (address: string, datacenter: string, status: 'U' | 'D' = 'U'): RingNode => ({ address, datacenter, rack: 'ra-1', status, state: 'N' }) as RingNode
const plan = planReplication(toKeyspaces(rows), { mode: 'remove', sourceDc: 'dc-1', targetDc: 'dc-2', targetNodes: 0 })

describe('remove safety', () => {
  it('knows which DCs each keyspace keeps', () => {
    expect(localQuorum(3)).toBe(2)
    expect(localQuorum(1)).toBe(1)
    expect(Object.fromEntries(remainingDcs(plan))).toEqual({ cache_org_hybrid: { 'dc-1': 3 }, kvm_org_hybrid: { 'dc-1': 3, 'dc-3': 3 }, system_auth: { 'dc-1': 3 } })
  })
  it('refuses a remaining DC with fewer live nodes than LOCAL_QUORUM of its RF, naming keyspace, DC and fix', () => {
    const ring = [node('1', 'dc-1'), node('2', 'dc-1'), node('3', 'dc-1'), node('4', 'dc-3'), node('5', 'dc-3', 'D')]
    const errs = quorumProblems(plan, ring)
    expect(errs.map((e) => e.message)).toEqual([`keyspace 'kvm_org_hybrid' would be left with 'dc-3' (RF 3) alone answering for it, but 'dc-3' has 1 live node(s): LOCAL_QUORUM needs 2`])
    expect(errs[0].hint).toMatch(/lower its RF for 'kvm_org_hybrid'/)
    expect(quorumProblems(plan, [...ring, node('6', 'dc-3')])).toEqual([])
  })
  it('refuses a remaining DC holding fewer rows than the removed one (never rebuilt), naming the rebuild that fixes it', () => {
    const tables = [
      { keyspace: 'kvm_org_hybrid', table: 'kvm' },
      { keyspace: 'cache_org_hybrid', table: 'c' },
      { keyspace: 'cache_org_hybrid', table: 'empty' }
    ]
    const removed = { dc: 'dc-2', via: '127.0.2.1', counts: [100, 50, 0] }
    const ok = dataProblems(plan, tables, removed, [{ dc: 'dc-1', via: '127.0.1.1', counts: [100, 50, 0] }, { dc: 'dc-3', via: '127.0.3.1', counts: [100, 0, 0] }])
    // dc-3 does not replicate cache_org_hybrid: its 0 rows there are not a problem
    expect(ok).toEqual([])
    const bad = dataProblems(plan, tables, removed, [{ dc: 'dc-1', via: '127.0.1.1', counts: [100, 50, 0] }, { dc: 'dc-3', via: '127.0.3.1', counts: [0, 0, 0] }])
    expect(bad.map((e) => e.message)).toEqual([
      `keyspace 'kvm_org_hybrid': 'dc-3' does not hold the data 'dc-2' holds (rows at LOCAL_ONE via 127.0.3.1 vs 127.0.2.1: kvm 0 of 100); 'dc-3' was probably never rebuilt`
    ])
    expect(bad[0].hint).toBe(`rebuild 'dc-3' from 'dc-2' first (rebuild-dc source-datacenter: dc-2, target-datacenter: dc-3), then remove 'dc-2'`)
  })
  it('refuses a remaining DC whose node refuses the login (no roles: never rebuilt), once for the DC', () => {
    const tables = [{ keyspace: 'kvm_org_hybrid', table: 'kvm' }]
    const removed = { dc: 'dc-2', via: '127.0.2.1', counts: [100] }
    const errs = dataProblems(plan, tables, removed, [{ dc: 'dc-1', via: '127.0.1.1', counts: [100] }, { dc: 'dc-3', via: '127.0.3.1', counts: [], noRoles: true }])
    expect(errs.map((e) => e.message)).toEqual([`'dc-3' does not hold the data 'dc-2' holds: its node 127.0.3.1 refuses the login that 127.0.2.1 accepts (no roles in its system_auth); 'dc-3' was probably never rebuilt`])
    expect(errs[0].hint).toMatch(/^rebuild 'dc-3' from 'dc-2' first/)
  })
})
