import { expandPorts, freePriority, planNsgRule, planNsgRules, portRanges, ruleNameFor, type ExistingRule } from '../../../src/core/azure/nsg-plan.ts'

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
  it('names rules within 80 characters, IPv6 ones with a suffix', () => {
    expect(ruleNameFor('west', 6)).toBe('allow-cassandra-from-west-ipv6')
    const long = ruleNameFor('v'.repeat(80), 6)
    expect(long.length).toBeLessThanOrEqual(80)
    expect(long.endsWith('-ipv6')).toBe(true)
  })
})

describe('planNsgRules (one rule per address family)', () => {
  const dual = { ...base, existing: [] as ExistingRule[], sourcePrefixes: ['192.138.0.0/24', 'fd00:db8:2::/48'], destinationPrefixes: ['120.38.1.0/24', 'fd00:db8:1::/48'] }
  it('plans an IPv4 and an IPv6 rule for a dual-stack pair, at distinct priorities, never mixing families', () => {
    const a = planNsgRules(dual)
    expect(a.map((x) => [x.kind, x.rule.name, x.rule.priority, x.rule.sourceAddressPrefixes, x.rule.destinationAddressPrefixes])).toEqual([
      ['create', 'allow-cassandra-from-west', 1000, ['192.138.0.0/24'], ['120.38.1.0/24']],
      ['create', 'allow-cassandra-from-west-ipv6', 1001, ['fd00:db8:2::/48'], ['fd00:db8:1::/48']]
    ])
  })
  it('keeps both on a re-run, IPv6 prefixes compared in canonical form', () => {
    const [v4, v6] = planNsgRules(dual).map((x) => x.rule)
    const again = planNsgRules({ ...dual, existing: [v4, { ...v6, sourceAddressPrefixes: ['FD00:0DB8:0002::/48'] }] })
    expect(again.map((x) => x.kind)).toEqual(['keep', 'keep'])
  })
  it('plans no rule for a family only one side has', () => {
    const a = planNsgRules({ ...dual, destinationPrefixes: ['120.38.1.0/24'] })
    expect(a.map((x) => x.rule.name)).toEqual(['allow-cassandra-from-west'])
  })
  it('sees an IPv6 Deny rule that shadows the IPv6 rule only', () => {
    const deny: ExistingRule = { name: 'deny-v6', priority: 900, direction: 'Inbound', access: 'Deny', protocol: 'Tcp', sourceAddressPrefix: 'fd00:db8::/32', destinationPortRange: '7000' }
    const a = planNsgRules({ ...dual, existing: [deny] })
    expect(a.map((x) => x.shadowedBy)).toEqual([[], ['deny-v6 (priority 900, Deny)']])
  })
})
