import { expandPorts, freePriority, planNsgRule, portRanges, ruleNameFor, type ExistingRule } from '../../../src/core/azure/nsg-plan.ts'

const base = {
  nsgId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg',
  nsgName: 'nsg',
  ruleName: 'allow-cassandra-from-west',
  sourcePrefixes: ['192.138.0.0/24'],
  destinationPrefixes: ['120.38.1.0/24'],
  ports: [7000, 7001],
  peerVnet: 'west'
}
const ours = (o: Partial<ExistingRule> = {}): ExistingRule => ({
  name: 'allow-cassandra-from-west',
  priority: 1000,
  direction: 'Inbound',
  access: 'Allow',
  protocol: 'Tcp',
  sourcePortRange: '*',
  sourceAddressPrefixes: ['192.138.0.0/24'],
  destinationAddressPrefixes: ['120.38.1.0/24'],
  destinationPortRanges: ['7000-7001'],
  ...o
})

describe('ports', () => {
  it('compresses and expands ranges', () => {
    expect(portRanges([7001, 7000, 9042, 7199])).toEqual(['7000-7001', '7199', '9042'])
    expect([...expandPorts('7000-7002')!]).toEqual([7000, 7001, 7002])
    expect(expandPorts(undefined, ['*'])).toBeUndefined()
  })
})

describe('planNsgRule', () => {
  it('creates at the lowest free inbound priority from 1000', () => {
    const a = planNsgRule({ ...base, existing: [{ name: 'x', priority: 1000, direction: 'Inbound' }, { name: 'y', priority: 1001, direction: 'Outbound' }, { name: 'z', priority: 1002, direction: 'Inbound' }] })
    expect(a.kind).toBe('create')
    expect(a.rule).toMatchObject({ priority: 1001, direction: 'Inbound', access: 'Allow', protocol: 'Tcp', sourceAddressPrefixes: ['192.138.0.0/24'], destinationPortRanges: ['7000-7001'] })
    expect(freePriority([])).toBe(1000)
  })
  it('keeps an identical rule (idempotent), whatever its priority', () => {
    const a = planNsgRule({ ...base, existing: [ours({ priority: 1234 })] })
    expect(a.kind).toBe('keep')
    expect(a.rule.priority).toBe(1234)
  })
  it('treats single and list fields alike', () => {
    const a = planNsgRule({ ...base, existing: [ours({ sourceAddressPrefixes: undefined, sourceAddressPrefix: '192.138.0.0/24', destinationPortRanges: ['7000', '7001'] })] })
    expect(a.kind).toBe('keep')
  })
  it('updates a rule whose source no longer matches the peer address space, at the same priority', () => {
    const a = planNsgRule({ ...base, sourcePrefixes: ['192.138.0.0/24', '192.139.0.0/24'], existing: [ours({ priority: 1500 })] })
    expect(a.kind).toBe('update')
    expect(a.reason).toContain('source prefixes')
    expect(a.rule.priority).toBe(1500)
  })
  it('warns about a Deny rule evaluated first', () => {
    const a = planNsgRule({ ...base, existing: [{ name: 'deny-all', priority: 900, direction: 'Inbound', access: 'Deny', protocol: '*', sourceAddressPrefix: '*', destinationPortRange: '*' }] })
    expect(a.shadowedBy).toEqual(['deny-all (priority 900, Deny)'])
  })
  it('names rules within 80 characters', () => {
    expect(ruleNameFor('west')).toBe('allow-cassandra-from-west')
    expect(ruleNameFor('v'.repeat(80)).length).toBeLessThanOrEqual(80)
  })
})
