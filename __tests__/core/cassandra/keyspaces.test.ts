import { altered, parseRfList, planReplication, planRows, toKeyspaces, verifyPlan, type KeyspaceRow, type PlanOptions } from '../../../src/core/cassandra/keyspaces.ts'
import { checkGates, failedGates } from '../../../src/core/cassandra/gates.ts'
import { parseDescribeCluster, type RingNode } from '../../../src/core/cassandra/status.ts'

const NTS = 'org.apache.cassandra.locator.NetworkTopologyStrategy'
// The seed document's example (procedure C.2) plus a mixed-case keyspace and a SimpleStrategy one.
const rows: KeyspaceRow[] = [
  { keyspace_name: 'system', replication: { class: 'org.apache.cassandra.locator.LocalStrategy' } },
  { keyspace_name: 'system_schema', replication: { class: 'org.apache.cassandra.locator.LocalStrategy' } },
  { keyspace_name: 'system_auth', replication: { class: NTS, 'dc-1': '3' } },
  { keyspace_name: 'system_distributed', replication: { class: NTS, 'dc-1': '3' } },
  { keyspace_name: 'system_traces', replication: { class: NTS, 'dc-1': '2' } },
  { keyspace_name: 'cache_org_hybrid', replication: { class: NTS, 'dc-1': '3' } },
  { keyspace_name: 'kms_org_hybrid', replication: { class: NTS, 'dc-1': '3', 'dc-2': '3' } },
  { keyspace_name: 'Mixed_Case', replication: { class: NTS, 'dc-1': '1' } },
  { keyspace_name: 'legacy', replication: { class: 'org.apache.cassandra.locator.SimpleStrategy', replication_factor: '1' } }
]
const ks = toKeyspaces(rows)
const add: PlanOptions = { mode: 'add', sourceDc: 'dc-1', targetDc: 'dc-2', targetNodes: 2 }

describe('planReplication add', () => {
  const plan = planReplication(ks, add)
  const by = Object.fromEntries(plan.items.map((i) => [i.keyspace, i]))
  it('alters every NTS keyspace lacking the new DC, system keyspaces included', () => {
    expect(altered(plan).map((i) => i.keyspace)).toEqual(['cache_org_hybrid', 'Mixed_Case', 'system_distributed', 'system_traces', 'system_auth'])
  })
  it('defaults RF to the source RF capped at the new DC node count', () => {
    expect(by.system_auth.after).toEqual({ 'dc-1': '3', 'dc-2': '2' })
    expect(by.system_auth.reason).toMatch(/capped at 2 node/)
    expect(by.Mixed_Case.after).toEqual({ 'dc-1': '1', 'dc-2': '1' })
  })
  it('never touches LocalStrategy, reports SimpleStrategy, keeps keyspaces already there', () => {
    expect(by.system.action).toBe('skip')
    expect(by.system_schema.action).toBe('skip')
    expect(by.legacy).toMatchObject({ action: 'skip' })
    expect(by.legacy.warning).toMatch(/SimpleStrategy.*convert-simple-strategy/)
    expect(by.kms_org_hybrid.action).toBe('unchanged')
  })
  it('writes ALTERs with quoted identifiers and string-literal DC names', () => {
    expect(by.Mixed_Case.statement).toBe(`ALTER KEYSPACE "Mixed_Case" WITH replication = {'class': 'NetworkTopologyStrategy', 'dc-1': '1', 'dc-2': '1'};`)
  })
  it('takes RF from inputs: global, then per keyspace', () => {
    const p = planReplication(ks, { ...add, rf: 1, rfByKeyspace: { cache_org_hybrid: 2, kms_org_hybrid: 1 } })
    const b = Object.fromEntries(p.items.map((i) => [i.keyspace, i]))
    expect(b.system_auth.after!['dc-2']).toBe('1')
    expect(b.cache_org_hybrid.after!['dc-2']).toBe('2')
    expect(b.kms_org_hybrid).toMatchObject({ action: 'alter', reason: 'RF 3 -> 1 (replication-factors)' })
  })
  it('converts SimpleStrategy only when asked', () => {
    const p = planReplication(ks, { ...add, convertSimple: true })
    expect(p.items.find((i) => i.keyspace === 'legacy')).toMatchObject({ action: 'alter', after: { 'dc-1': '1', 'dc-2': '1' } })
  })
  it('is idempotent: planning on the result changes nothing', () => {
    const afterRows = rows.map((r) => {
      const i = plan.items.find((x) => x.keyspace === r.keyspace_name)
      return i?.after ? { ...r, replication: { class: NTS, ...i.after } } : r
    })
    const again = planReplication(toKeyspaces(afterRows), add)
    expect(altered(again)).toEqual([])
    expect(verifyPlan(plan, toKeyspaces(afterRows))).toEqual([])
    expect(verifyPlan(plan, ks)).toContain("keyspace 'system_auth': expected {dc-1:3, dc-2:2}, found {dc-1:3}")
  })
  it('rejects unknown keyspace names in inputs, case-sensitively', () => {
    expect(() => planReplication(ks, { ...add, rfByKeyspace: { mixed_case: 1 } })).toThrow(/^input 'replication-factors': keyspace\(s\) 'mixed_case' do not exist$/)
    expect(() => planReplication(ks, { ...add, include: ['nope'], rfByKeyspace: { Mixed_Case: 1, other: 2 } })).toThrow(/^input 'keyspaces': keyspace\(s\) 'nope' do not exist\ninput 'replication-factors': keyspace\(s\) 'other' do not exist$/)
    expect(() => planReplication(ks, { ...add, targetDc: 'dc-1' })).toThrow(/both 'dc-1'/)
  })
  it('filters with include/exclude', () => {
    expect(altered(planReplication(ks, { ...add, include: ['Mixed_Case'] })).map((i) => i.keyspace)).toEqual(['Mixed_Case'])
    expect(altered(planReplication(ks, { ...add, exclude: ['system_traces'] })).map((i) => i.keyspace)).not.toContain('system_traces')
  })
  it('renders a before/after table', () => {
    expect(planRows(plan).find((r) => r[0] === 'system_auth')).toEqual(['system_auth', 'alter', 'dc-1:3', 'dc-1:3, dc-2:2', expect.any(String)])
  })
})

describe('planReplication remove', () => {
  const rm: PlanOptions = { mode: 'remove', sourceDc: 'dc-1', targetDc: 'dc-2', targetNodes: 0 }
  it('removes the DC, system_auth last', () => {
    const two = toKeyspaces(rows.map((r) => (r.replication.class === NTS ? { ...r, replication: { ...r.replication, 'dc-2': '1' } } : r)))
    const p = planReplication(two, rm)
    const names = altered(p).map((i) => i.keyspace)
    expect(names[names.length - 1]).toBe('system_auth')
    expect(names).toHaveLength(6)
    expect(p.items.find((i) => i.keyspace === 'kms_org_hybrid')!.after).toEqual({ 'dc-1': '3' })
  })
  it('keeps system_auth while the DC has live nodes (Cassandra 4.1+ refuses), with a warning', () => {
    const two = toKeyspaces(rows.map((r) => (r.replication.class === NTS ? { ...r, replication: { ...r.replication, 'dc-2': '1' } } : r)))
    const p = planReplication(two, { ...rm, targetNodes: 1, targetLiveNodes: 1 })
    expect(altered(p).map((i) => i.keyspace)).not.toContain('system_auth')
    expect(p.items.find((i) => i.keyspace === 'system_auth')).toMatchObject({ action: 'skip', warning: expect.stringMatching(/decommission its nodes \(or removenode the ones that are gone\), then run mode remove again/) })
  })
  it('keeps system_auth while the DC still has nodes in the ring, even down ones; removes it once they are gone', () => {
    const two = toKeyspaces(rows.map((r) => (r.replication.class === NTS ? { ...r, replication: { ...r.replication, 'dc-2': '1' } } : r)))
    expect(altered(planReplication(two, { ...rm, targetNodes: 2, targetLiveNodes: 0 })).map((i) => i.keyspace)).not.toContain('system_auth')
    expect(altered(planReplication(two, { ...rm, targetNodes: 0, targetLiveNodes: 0 })).map((i) => i.keyspace)).toContain('system_auth')
  })
  it('refuses to leave a keyspace without replicas', () => {
    const only = toKeyspaces([{ keyspace_name: 'k', replication: { class: NTS, 'dc-2': '3' } }])
    expect(() => planReplication(only, rm)).toThrow(/'k' would leave it without replicas/)
  })
})

describe('gates', () => {
  const node = (address: string, datacenter: string, status: 'U' | 'D' = 'U', state: 'N' | 'J' = 'N'): RingNode => ({
    address,
    datacenter,
    status,
    state,
    hostId: '00000000-0000-0000-0000-000000000000',
    rack: 'ra-1'
  })
  const ring = [node('127.0.0.1', 'dc-1'), node('127.0.0.2', 'dc-1'), node('127.0.0.3', 'dc-1'), node('127.0.1.1', 'dc-2'), node('127.0.1.2', 'dc-2')]
  const ok = parseDescribeCluster('Cluster Information:\n\tName: c\n\tSchema versions:\n\t\tv1: [127.0.0.1]\n\nStats for all nodes:\n\tLive: 5\n\tUnreachable: 0\n')
  const plan = planReplication(ks, add)
  it('pass on a healthy ring', () => {
    expect(failedGates(checkGates(ring, ok, plan))).toEqual([])
  })
  it('fail naming the node that is down', () => {
    const bad = failedGates(checkGates([...ring.slice(0, 4), node('127.0.1.2', 'dc-2', 'D')], ok, plan))
    expect(bad.map((g) => g.detail).join('\n')).toMatch(/127\.0\.1\.2 \(dc-2\/ra-1, DN\)/)
    // and the RF gate, since dc-2 has one live node left but RF 2 is planned
    expect(bad.map((g) => g.detail).join('\n')).toMatch(/'dc-2' has 1 live node\(s\) but 'cache_org_hybrid' asks RF 2/)
  })
  it('fail on schema disagreement and unreachable nodes', () => {
    const d = parseDescribeCluster('Cluster Information:\n\tSchema versions:\n\t\tv1: [127.0.0.1]\n\t\tv2: [127.0.0.2]\n\t\tUNREACHABLE: [127.0.0.3]\n')
    const bad = failedGates(checkGates(ring, d, plan))
    expect(bad.map((g) => g.name)).toEqual(['one schema version', 'no unreachable node'])
    expect(bad[0].detail).toBe('schema disagreement: v1: [127.0.0.1]; v2: [127.0.0.2]')
  })
  it('fail on an unknown datacenter', () => {
    const p = planReplication(ks, { ...add, targetDc: 'dc-9' })
    expect(failedGates(checkGates(ring, ok, p)).map((g) => g.detail)).toContain("'dc-9' is not in the ring; datacenters: dc-1, dc-2")
  })
})

describe('parseRfList', () => {
  it('parses and rejects', () => {
    expect(parseRfList(['a=3', 'Mixed_Case = 1'])).toEqual({ ok: { a: 3, Mixed_Case: 1 } })
    expect(parseRfList(['a:3'])).toEqual({ error: "'a:3' is not keyspace=RF" })
    expect(parseRfList(['a=0'])).toEqual({ error: "'a=0': RF must be 1..20" })
    expect(parseRfList(['my-ks=3'])).toEqual({ error: "'my-ks=3': 'my-ks' is not a keyspace name" })
    expect(parseRfList(['a=3', 'a=2'])).toEqual({ error: "'a' is given twice, RF 3 and 2" })
    expect(parseRfList(['a=3', 'a = 3'])).toEqual({ ok: { a: 3 } })
  })
})

describe('captured SELECT JSON from cqlsh 6.2 against Cassandra 5.0.9', () => {
  it('parses, plans dc-2 for every NTS keyspace and never LocalStrategy', async () => {
    const { readFileSync } = await import('node:fs')
    const { parseJsonRows } = await import('../../../src/core/cassandra/cqlsh.ts')
    const text = readFileSync('__tests__/core/cassandra/captured/select-json-keyspaces.txt', 'utf8')
    const k = toKeyspaces(parseJsonRows<KeyspaceRow>(text))
    expect(k).toHaveLength(10)
    const p = planReplication(k, { mode: 'add', sourceDc: 'dc-1', targetDc: 'dc-2', targetNodes: 1 })
    expect(altered(p)).toHaveLength(8)
    expect(p.items.filter((i) => i.strategy === 'LocalStrategy').map((i) => i.action)).toEqual(['skip', 'skip'])
    expect(altered(p).every((i) => i.after!['dc-2'] === '1')).toBe(true)
  })
})
