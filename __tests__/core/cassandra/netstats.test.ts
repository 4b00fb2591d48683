// Parsers on output captured from real Cassandra 5.0.9 during `nodetool rebuild -- dc-7` of a
// one-node dc-8 (entire-SSTable streaming throttled to 1 MiB/s): __tests__/fixtures/cassandra/.
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseNetStats, peerAddress, receiveProgress } from '../../../src/core/cassandra/netstats.ts'
import { availableRanges, coverage, decodeRangeBlob, parseDescribeRing } from '../../../src/core/cassandra/rebuild-ranges.ts'
import { parseProbe } from '../../../src/core/cassandra/rebuild.ts'

const fixture = (name: string): string => readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/cassandra', name), 'utf8')

describe('parseNetStats on real output', () => {
  it('reads the receiving side of a rebuild: plan, peer, totals, files', () => {
    const ns = parseNetStats(fixture('netstats-rebuild-receiving.txt'))
    expect(ns.mode).toBe('NORMAL')
    expect(ns.plans).toHaveLength(1)
    const [plan] = ns.plans
    expect(plan.operation).toBe('Rebuild')
    expect(plan.planId).toBe('af229ef0-e606-11f1-99f7-bdbca694011f')
    expect(plan.sessions.map((s) => s.peer)).toEqual(['127.0.7.1'])
    expect(plan.sessions[0].receiving).toEqual({ files: 42, bytes: 24743911, doneFiles: 31, doneBytes: 31592 })
    expect(plan.sessions[0].sending).toBeUndefined()
    expect(plan.sessions[0].files).toHaveLength(31)
    expect(plan.sessions[0].files[0]).toEqual(expect.objectContaining({ bytes: 312, total: 312, direction: 'received', peer: '127.0.7.1' }))
    expect(plan.sessions[0].files[0].file).toMatch(/\/ks\/big-[0-9a-f]+\/nb-1-big-Filter\.db$/)
  })

  it('reads the sending side (peer with "using" address, trailing space after the percent)', () => {
    const ns = parseNetStats(fixture('netstats-rebuild-sending.txt'))
    const s = ns.plans[0].sessions[0]
    expect(s.peer).toBe('127.0.8.1')
    expect(s.using).toBe('127.0.0.1')
    expect(s.sending).toEqual({ files: 42, bytes: 24743911, doneFiles: 31, doneBytes: 31592 })
    expect(s.files.every((f) => f.direction === 'sent' && f.peer === '127.0.8.1')).toBe(true)
    expect(receiveProgress(ns).peers).toEqual([]) // a sender receives nothing
  })

  it('an idle node has no plan', () => {
    expect(parseNetStats(fixture('netstats-idle.txt'))).toEqual({ mode: 'NORMAL', plans: [] })
  })

  it('refuses text that is not netstats output', () => {
    expect(() => parseNetStats(fixture('rebuild-still-rebuilding.txt'))).toThrow(/no 'Mode:' line/)
  })

  it('receiveProgress sums per peer and overall, with percent of bytes', () => {
    const p = receiveProgress(parseNetStats(fixture('netstats-rebuild-dc8-entire-sstable-early.txt')))
    expect(p.planIds).toEqual(['af229ef0-e606-11f1-99f7-bdbca694011f'])
    expect(p.peers).toEqual([{ peer: '127.0.7.1', files: 42, doneFiles: 26, bytes: 24743911, doneBytes: 31296 }])
    expect(p.percent).toBeCloseTo((100 * 31296) / 24743911)
  })

  it('human-readable sizes (-H) and several peers and plans', () => {
    const text = `Mode: NORMAL
Rebuild 11111111-2222-3333-4444-555555555555
    /10.0.0.1:7000
        Receiving 3 files, 1.5 GiB total. Already received 1 files (33.33%), 512 MiB total (33.33%)
    /10.0.0.2:7000 (using /192.168.0.2:7000)
        Receiving 2 files, 1024 bytes total. Already received 2 files (100.00%), 1024 bytes total (100.00%)
Repair 99999999-2222-3333-4444-555555555555
    /10.0.0.3
        Receiving 1 files, 10 bytes total. Already received 0 files (0.00%), 0 bytes total (0.00%)
Read Repair Statistics:
Attempted: 0
`
    const p = receiveProgress(parseNetStats(text))
    expect(p.peers.map((x) => [x.peer, x.bytes, x.doneBytes])).toEqual([
      ['10.0.0.1', 1.5 * 1024 ** 3, 512 * 1024 ** 2],
      ['10.0.0.2', 1024, 1024]
    ])
    expect(receiveProgress(parseNetStats(text), 'Repair').doneBytes).toBe(0)
  })

  it('peerAddress strips slash, port and IPv6 brackets', () => {
    expect(peerAddress('/127.0.0.1:7000')).toBe('127.0.0.1')
    expect(peerAddress('host.example/10.1.2.3')).toBe('10.1.2.3')
    expect(peerAddress('/[::1]:7000')).toBe('::1')
  })

  it('the probe sections carry a real netstats through', () => {
    const p = parseProbe(`@@state\nwhat=dc-7\npid=4242\nalive=1\nstarted=1763768000\n@@log\n@@netstats\n${fixture('netstats-rebuild-receiving.txt')}`)
    expect(p.run).toEqual({ kind: 'running', what: 'dc-7', pid: 4242, startedAt: 1763768000 })
    expect(p.netstats?.plans[0].sessions[0].receiving?.doneFiles).toBe(31)
  })
})

describe('range evidence on real output (system.available_ranges_v2 vs describering)', () => {
  // cqlsh's table output of `SELECT keyspace_name, full_ranges FROM system.available_ranges_v2`
  const rows = fixture('available-ranges-rebuilt.txt')
    .split('\n')
    .map((l) => /^\s*(\w+)\s*\|\s*\{(.*)\}\s*$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ keyspace_name: m[1], full_ranges: m[2].split(',').map((s) => s.trim()) }))
  const ring = parseDescribeRing(fixture('describering-rebuilt.txt'))

  it('decodes serialized ranges into the tokens nodetool prints', () => {
    expect(decodeRangeBlob('0x00000000000000080199b53e1b9a38e70000000802887ca4585a145c')).toEqual({ start: '115322543830350055', end: '182532830207284316' })
    expect(decodeRangeBlob('0x0000')).toBeUndefined()
  })

  it('parses describering: 32 vnode ranges, each with both nodes as endpoints', () => {
    expect(ring).toHaveLength(32)
    expect(ring[0]).toEqual({ start: '7453173396209657150', end: '8636276950641383193', endpoints: ['127.0.7.1', '127.0.8.1'] })
    expect(ring.every((r) => r.endpoints.length === 2)).toBe(true)
  })

  it('the rebuilt node has every range it replicates available: complete', () => {
    const available = availableRanges(rows)
    expect([...available.keys()].sort()).toEqual(['ks', 'system_auth', 'system_distributed', 'system_traces'])
    const c = coverage('127.0.8.1', new Map([['ks', ring]]), available)
    expect(c).toEqual({ overall: 'complete', keyspaces: [{ keyspace: 'ks', needed: 32, available: 32 }] })
  })

  it('missing ranges make it partial, none make it none, a node outside the ring unknown', () => {
    const some = availableRanges([{ keyspace_name: 'ks', full_ranges: rows.find((r) => r.keyspace_name === 'ks')!.full_ranges.slice(0, 5) }])
    expect(coverage('127.0.8.1', new Map([['ks', ring]]), some).overall).toBe('partial')
    expect(coverage('127.0.8.1', new Map([['ks', ring]]), new Map()).overall).toBe('none')
    expect(coverage('127.0.9.9', new Map([['ks', ring]]), availableRanges(rows)).overall).toBe('unknown')
  })
})
