import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseDescribeCluster, parseSize, parseStatus, schemaVersions, unreachableNodes, type RingNode } from '../../../src/core/cassandra/status.ts'
import { gateSchema } from '../../../src/core/cassandra/gates.ts'

// The documented layout (Cassandra 5.0 source, Status.java / DescribeCluster.java); the captured
// real outputs in __tests__/fixtures/cassandra are tested below as well.
const STATUS = `Datacenter: dc-1
================
Status=Up/Down
|/ State=Normal/Leaving/Joining/Moving
--  Address    Load        Tokens  Owns (effective)  Host ID                               Rack
UN  127.0.0.1  109.6 KiB   16      100.0%            8d5ed9f4-7764-4dbd-bad8-43fddce94b7c  ra-1
DN  127.0.0.2  ?           16      100.0%            0f5ed9f4-7764-4dbd-bad8-43fddce94b7d  ra-2

Datacenter: dc 2
================
Status=Up/Down
|/ State=Normal/Leaving/Joining/Moving
--  Address    Load        Tokens  Owns (effective)  Host ID                               Rack
UJ  127.0.0.4  1.02 MiB    16      ?                 1f5ed9f4-7764-4dbd-bad8-43fddce94b7e  rack 1
`

const DESCRIBE = `Cluster Information:
\tName: apigeecluster
\tSnitch: org.apache.cassandra.locator.GossipingPropertyFileSnitch
\tDynamicEndPointSnitch: enabled
\tPartitioner: org.apache.cassandra.dht.Murmur3Partitioner
\tSchema versions:
\t\t5d2b0e27-4c2e-3b0c-a3a5-5f0a8b7c1d11: [127.0.0.1, 127.0.0.2]

\t\tUNREACHABLE: [127.0.0.3]

Stats for all nodes:
\tLive: 2
\tJoining: 0
\tMoving: 0
\tLeaving: 0
\tUnreachable: 1

Data Centers: 
\tdc-1 #Nodes: 3 #Down: 1

Database versions:
\t5.0.2: [127.0.0.1:7000, 127.0.0.2:7000]

Keyspaces:
\tsystem_auth -> Replication class: NetworkTopologyStrategy {dc-1=3}
\tsystem -> Replication class: LocalStrategy {}
`

describe('parseStatus', () => {
  it('reads every node with its datacenter, state, load and rack', () => {
    const nodes = parseStatus(STATUS)
    expect(nodes).toHaveLength(3)
    expect(nodes[0]).toMatchObject({ datacenter: 'dc-1', status: 'U', state: 'N', address: '127.0.0.1', load: '109.6 KiB', loadBytes: 112230, tokens: 16, rack: 'ra-1' })
    expect(nodes[1]).toMatchObject({ status: 'D', load: undefined, rack: 'ra-2' })
    expect(nodes[2]).toMatchObject({ datacenter: 'dc 2', state: 'J', owns: '?', rack: 'rack 1' })
  })
  it('refuses text that is not status output', () => {
    expect(() => parseStatus('nodetool: Failed to connect')).toThrow(/not nodetool status/)
  })
  it('parses sizes', () => {
    expect(parseSize('1.5 GiB')).toBe(1610612736)
    expect(parseSize('12 bytes')).toBe(12)
    expect(parseSize('?')).toBeUndefined()
  })
})

describe('parseDescribeCluster', () => {
  it('reads schema versions, unreachable nodes, stats, datacenters and keyspaces', () => {
    const d = parseDescribeCluster(DESCRIBE)
    expect(d.name).toBe('apigeecluster')
    expect(schemaVersions(d)).toEqual(['5d2b0e27-4c2e-3b0c-a3a5-5f0a8b7c1d11'])
    expect(unreachableNodes(d)).toEqual(['127.0.0.3'])
    expect(d).toMatchObject({ live: 2, unreachable: 1, datacenters: { 'dc-1': { nodes: 3, down: 1 } } })
    expect(d.keyspaces.system_auth).toBe('NetworkTopologyStrategy {dc-1=3}')
  })
  it('a decommissioned node (gone from the ring, still UNREACHABLE to gossip) does not count against the ring', () => {
    const d = parseDescribeCluster(DESCRIBE)
    const ring = (addresses: string[]) => addresses.map((address) => ({ address }) as RingNode)
    expect(unreachableNodes(d, ring(['127.0.0.1', '127.0.0.2']))).toEqual([])
    expect(unreachableNodes(d, ring(['127.0.0.1', '127.0.0.2', '127.0.0.3']))).toEqual(['127.0.0.3'])
    expect(unreachableNodes({ ...d, schemaVersions: { UNREACHABLE: ['/127.0.0.3:7000', '[::1]:7000'] } }, ring(['127.0.0.3', '::1']))).toEqual(['/127.0.0.3:7000', '[::1]:7000'])
    expect(gateSchema(d, ring(['127.0.0.1', '127.0.0.2'])).map((g) => g.ok)).toEqual([true, true])
    expect(gateSchema(d, ring(['127.0.0.1', '127.0.0.2', '127.0.0.3'])).map((g) => [g.ok, g.detail])).toEqual([[true, expect.any(String)], [false, 'unreachable: 127.0.0.3']])
  })
  it('refuses other text', () => {
    expect(() => parseDescribeCluster('error: connection refused')).toThrow(/not nodetool describecluster/)
  })
})

// Real output captured from the sandbox's Cassandra 5.0 nodes (when present).
const FIX = join(process.cwd(), '__tests__/fixtures/cassandra')
const fixtures = existsSync(FIX) ? readdirSync(FIX) : []
const statusFixtures = fixtures.filter((f) => /status/.test(f) && !/describe/.test(f))
const describeFixtures = fixtures.filter((f) => /describecluster/.test(f))

describe('captured real output', () => {
  it.each(statusFixtures.length ? statusFixtures : ['(none yet)'])('status %s', (f) => {
    if (f === '(none yet)') return
    const text = readFileSync(join(FIX, f), 'utf8')
    const nodes = parseStatus(text)
    const lines = text.split('\n').filter((l) => /^[UD][NLJM]\s/.test(l))
    expect(nodes).toHaveLength(lines.length)
    expect(nodes.length).toBeGreaterThan(0)
    for (const n of nodes) {
      expect(n.datacenter).not.toBe('')
      expect(n.rack).not.toBe('')
      expect(n.hostId).toMatch(/^[0-9a-f-]{36}$/)
    }
  })
  it.each(describeFixtures.length ? describeFixtures : ['(none yet)'])('describecluster %s', (f) => {
    if (f === '(none yet)') return
    const d = parseDescribeCluster(readFileSync(join(FIX, f), 'utf8'))
    expect(d.name).toBeTruthy()
    expect(schemaVersions(d).length).toBeGreaterThan(0)
    expect(d.live).toBeGreaterThan(0)
    expect(Object.keys(d.datacenters).length).toBeGreaterThan(0)
  })
})

// Captured by this module's author from a sandbox Cassandra 5.0.9 ring (nodetool / cqlsh 6.2).
describe('captured in __tests__/core/cassandra/captured', () => {
  const dir = join(process.cwd(), '__tests__/core/cassandra/captured')
  it('nodetool status', () => {
    const nodes = parseStatus(readFileSync(join(dir, 'status-dc1-2nodes.txt'), 'utf8'))
    expect(nodes.map((n) => [n.datacenter, n.address, `${n.status}${n.state}`, n.rack, n.load])).toEqual([
      ['dc-1', '127.0.1.2', 'UN', 'ra-1', '94.1 KiB'],
      ['dc-1', '127.0.1.1', 'UN', 'ra-1', '126.89 KiB']
    ])
  })
  it('nodetool describecluster', () => {
    const d = parseDescribeCluster(readFileSync(join(dir, 'describecluster-dc1.txt'), 'utf8'))
    expect(d).toMatchObject({ name: 'apigeecluster', live: 2, unreachable: 0, datacenters: { 'dc-1': { nodes: 2, down: 0 } } })
    expect(d.schemaVersions).toEqual({ '28a97a7c-5dbf-3b0a-9e36-2d2678d2d5b0': ['127.0.1.1', '127.0.1.2'] })
    expect(d.keyspaces.system_auth).toBe('NetworkTopologyStrategy {dc-1=2}')
  })
})
