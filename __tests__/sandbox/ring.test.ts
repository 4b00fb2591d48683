// The sandbox's own reading of `nodetool status` (sandbox/cassandra/ring.ts), on captured output.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ringMembers, upNormal } from '../../sandbox/cassandra/ring.ts'

const captured = (f: string): string => readFileSync(join(process.cwd(), '__tests__/core/cassandra/captured', f), 'utf8')

describe('sandbox ring reading', () => {
  it('reads every node line under its datacenter', () => {
    expect(ringMembers(captured('status-dc1-2nodes.txt'))).toEqual([
      { datacenter: 'dc-1', address: '127.0.1.2', state: 'UN' },
      { datacenter: 'dc-1', address: '127.0.1.1', state: 'UN' }
    ])
  })
  it('reads the 4.1 capture the same way', () => {
    expect(ringMembers(captured('4.1/status-2dc.txt')).map((m) => `${m.datacenter} ${m.address} ${m.state}`).sort()).toEqual(['dc-1 127.37.1.1 UN', 'dc-1 127.37.1.2 UN', 'dc-2 127.37.2.1 UN'])
  })
  it('counts only Up/Normal nodes', () => {
    const text = 'Datacenter: dc-1\n--  Address  Load\nUN  127.0.1.1  1 KiB  16  ?  x  ra-1\nDatacenter: dc-2\nUJ  127.0.2.1  1 KiB  16  ?  y  ra-1\nDN  127.0.2.2  ?  16  ?  z  ra-1\n'
    expect([...upNormal(text)]).toEqual(['127.0.1.1'])
    expect(ringMembers(text).map((m) => `${m.datacenter} ${m.state}`)).toEqual(['dc-1 UN', 'dc-2 UJ', 'dc-2 DN'])
  })
})
