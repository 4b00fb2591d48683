import { describe, expect, it } from '@jest/globals'
import { decide, rebuildArgs, rebuildGates, rebuildLanes, requestKey, targetNodes, type TargetNode } from '../../../src/core/cassandra/rebuild-plan.ts'
import type { RingNode } from '../../../src/core/cassandra/status.ts'

const ring = (dc: string, address: string, rack: string, status: 'U' | 'D' = 'U', state: RingNode['state'] = 'N'): RingNode => ({
  datacenter: dc,
  status,
  state,
  address,
  hostId: `00000000-0000-0000-0000-${address.replace(/\./g, '').padStart(12, '0')}`,
  rack
})

const node = (pod: string, rack: string): TargetNode => ({ pod, address: pod, hostId: pod, rack, datacenter: 'dc-2', up: true, state: 'N' })
const pods = (lanes: TargetNode[][]): string[][] => lanes.map((l) => l.map((n) => n.pod))

describe('rebuildLanes', () => {
  const nodes = [node('c-3', 'ra-2'), node('c-10', 'ra-1'), node('c-0', 'ra-1'), node('c-1', 'ra-2'), node('c-2', 'ra-1')]

  it('sequential: one lane, racks in order, pods by ordinal (10 after 2)', () => {
    expect(pods(rebuildLanes(nodes, false))).toEqual([['c-0', 'c-2', 'c-10', 'c-1', 'c-3']])
  })

  it('parallel racks: one lane per rack, so one node per rack streams at a time', () => {
    expect(pods(rebuildLanes(nodes, true))).toEqual([
      ['c-0', 'c-2', 'c-10'],
      ['c-1', 'c-3']
    ])
  })

  it('one rack with parallel-racks is plain sequential', () => {
    expect(pods(rebuildLanes([node('c-1', 'r'), node('c-0', 'r')], true))).toEqual([['c-0', 'c-1']])
  })
})

describe('decide (resume)', () => {
  const req = { sourceDc: 'dc-1', keyspaces: [] }
  const exited = (rc: number, what = 'dc-1') => ({ kind: 'exited' as const, what, rc, log: '' })

  it('skips a node whose rebuild from the same source exited 0', () => {
    expect(decide({ run: exited(0), streaming: false }, req).action).toBe('skip')
  })
  it('never counts a failed rebuild as done: retries it', () => {
    const d = decide({ run: exited(1), streaming: false }, req)
    expect(d.action).toBe('start')
    expect(d.why).toMatch(/failed \(exit 1\)/)
  })
  it('re-attaches to our running job instead of starting a second one', () => {
    expect(decide({ run: { kind: 'running', what: 'dc-1', pid: 42 }, streaming: true }, req)).toEqual(expect.objectContaining({ action: 'attach', thenStart: false }))
  })
  it('waits for a foreign rebuild (netstats) and then runs ours', () => {
    expect(decide({ run: { kind: 'none' }, streaming: true }, req)).toEqual(expect.objectContaining({ action: 'attach', thenStart: true }))
    expect(decide({ run: exited(0), streaming: true }, req)).toEqual(expect.objectContaining({ action: 'attach', thenStart: true }))
  })
  it('a rebuild done for another source or keyspace set is not this one', () => {
    expect(decide({ run: exited(0, 'dc-3'), streaming: false }, req).action).toBe('start')
    expect(decide({ run: exited(0, 'dc-1'), streaming: false }, { sourceDc: 'dc-1', keyspaces: ['a'] }).action).toBe('start')
  })
  it('an interrupted job (pid, no exit status, no stream) is resumed', () => {
    expect(decide({ run: { kind: 'lost', what: 'dc-1', log: '' }, streaming: false }, req).action).toBe('start')
    expect(decide({ run: { kind: 'none' }, streaming: false }, req).action).toBe('start')
  })
})

describe('request', () => {
  it('puts the DC after -- so it can never be read as an option', () => {
    expect(rebuildArgs({ sourceDc: 'dc-1', keyspaces: [] })).toEqual(['--', 'dc-1'])
    expect(rebuildArgs({ sourceDc: 'dc-1', keyspaces: ['a', 'B'] })).toEqual(['-ks', 'a,B', '--', 'dc-1'])
    expect(requestKey({ sourceDc: 'dc-1', keyspaces: ['a', 'B'] })).toBe('dc-1 -ks a,B')
  })
})

describe('targetNodes and gates', () => {
  const r = [ring('dc-1', '127.0.1.1', 'ra-1'), ring('dc-2', '127.0.2.1', 'ra-1'), ring('dc-2', '127.0.2.2', 'ra-2')]
  const p = [
    { name: 'apigee-cassandra-default-0', ready: true, address: '127.0.2.1' },
    { name: 'apigee-cassandra-default-1', ready: true, address: '127.0.2.2' }
  ]

  it('maps the DC nodes to their pods by address, with rack and host ID', () => {
    const t = targetNodes(r, p, 'dc-2')
    expect(t.map((n) => [n.pod, n.rack])).toEqual([
      ['apigee-cassandra-default-0', 'ra-1'],
      ['apigee-cassandra-default-1', 'ra-2']
    ])
    expect(t[0].hostId).toBe(r[1].hostId)
  })
  it('names the DC and the known DCs when the target is not in the ring', () => {
    expect(() => targetNodes(r, p, 'dc-3')).toThrow(/'dc-3' has no node in the ring \(datacenters: dc-1, dc-2\)/)
  })
  it('names the ring node that has no pod', () => {
    expect(() => targetNodes(r, p.slice(0, 1), 'dc-2')).toThrow(/127\.0\.2\.2 of dc-2 match no pod/)
  })
  it('gates: unknown source, same DC, a down target node, every problem at once', () => {
    const down = [...r.slice(0, 2), ring('dc-2', '127.0.2.2', 'ra-2', 'D')]
    const t = targetNodes(down, p, 'dc-2')
    const errs = rebuildGates(down, { sourceDc: 'dc-9', keyspaces: [] }, 'dc-2', t).map((e) => e.message)
    expect(errs).toEqual([expect.stringMatching(/source datacenter 'dc-9' is not in the ring/), expect.stringMatching(/apigee-cassandra-default-1 \(127\.0\.2\.2\) of dc-2 is DN/)])
    expect(rebuildGates(r, { sourceDc: 'dc-2', keyspaces: [] }, 'dc-2', []).map((e) => e.message)).toEqual([expect.stringMatching(/both 'dc-2'/)])
    expect(rebuildGates(r, { sourceDc: 'dc-1', keyspaces: [] }, 'dc-2', targetNodes(r, p, 'dc-2'))).toEqual([])
  })
})

describe('decide with Cassandra range evidence', () => {
  const req = { sourceDc: 'dc-1', keyspaces: [] }
  it('a node whose every range is available is done even when our state is gone (pod restarted)', () => {
    expect(decide({ run: { kind: 'none' }, streaming: false, ranges: 'complete' }, req).action).toBe('skip')
  })
  it('a partly streamed node is resumed, and the why names the 4.1+ requirement', () => {
    const d = decide({ run: { kind: 'lost', what: 'dc-1', log: '' }, streaming: false, ranges: 'partial' }, req)
    expect(d.action).toBe('start')
    expect(d.why).toMatch(/reset_bootstrap_progress/)
  })
  it('a running job wins over range evidence (never started twice)', () => {
    expect(decide({ run: { kind: 'running', what: 'dc-1', pid: 1 }, streaming: true, ranges: 'complete' }, req).action).toBe('attach')
  })
})
