import { describe, expect, it } from '@jest/globals'
import type { Keyspace } from '../../../src/core/cassandra/keyspaces.ts'
import { compareLoad, rebuildScope } from '../../../src/core/cassandra/rebuild-verify.ts'
import type { RingNode } from '../../../src/core/cassandra/status.ts'

const nts = (name: string, options: Record<string, string>): Keyspace => ({ name, strategy: 'NetworkTopologyStrategy', options })

describe('rebuildScope', () => {
  const all = [
    nts('app', { 'dc-1': '3', 'dc-2': '3' }),
    nts('late', { 'dc-1': '3' }),
    nts('system_auth', { 'dc-1': '3', 'dc-2': '3' }),
    nts('system_traces', { 'dc-1': '2' }),
    { name: 'system', strategy: 'LocalStrategy', options: {} },
    { name: 'legacy', strategy: 'SimpleStrategy', options: { replication_factor: '1' } },
    nts('other_dc_only', { 'dc-3': '1' })
  ]

  it('finds the keyspaces of the source DC that do not replicate to the new DC yet (rebuild would stream nothing)', () => {
    const s = rebuildScope(all, 'dc-1', 'dc-2', [])
    expect(s.covered.map((k) => k.name)).toEqual(['app', 'system_auth'])
    expect(s.missing).toEqual(['late', 'system_traces'])
    expect(s.unknown).toEqual([])
  })

  it('with a keyspaces input only those count, and unknown names are reported', () => {
    const s = rebuildScope(all, 'dc-1', 'dc-2', ['app', 'nope'])
    expect(s.covered.map((k) => k.name)).toEqual(['app'])
    expect(s.missing).toEqual([])
    expect(s.unknown).toEqual(['nope'])
    expect(s.noSource).toEqual([])
  })

  it('a keyspace with no replica in the source DC is reported (Cassandra would stream nothing and exit 0)', () => {
    const s = rebuildScope([...all, nts('only_new', { 'dc-2': '1' })], 'dc-1', 'dc-2', ['only_new'])
    expect(s.noSource).toEqual(['only_new'])
    expect(s.covered).toEqual([])
  })

  it('an RF of 0 for the new DC is not replication', () => {
    expect(rebuildScope([nts('z', { 'dc-1': '1', 'dc-2': '0' })], 'dc-1', 'dc-2', []).missing).toEqual(['z'])
  })
})

describe('compareLoad', () => {
  const n = (dc: string, address: string, loadBytes?: number): RingNode => ({ datacenter: dc, status: 'U', state: 'N', address, loadBytes, hostId: address, rack: 'ra-1' })
  it('sums the load per DC and gives the new/source ratio', () => {
    const c = compareLoad([n('dc-1', 'a', 100), n('dc-1', 'b', 100), n('dc-2', 'c', 150), n('dc-2', 'd'), n('dc-3', 'e', 999)], 'dc-1', 'dc-2')
    expect([c.source, c.target, c.ratio]).toEqual([200, 150, 0.75])
    expect(c.rows.map((r) => r.address)).toEqual(['a', 'b', 'c', 'd'])
  })
})
