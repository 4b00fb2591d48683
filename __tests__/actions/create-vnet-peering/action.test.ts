// create-vnet-peering end to end: the bundle, run as the GitHub runner runs it, against the ARM
// double (with the real auth path: GitHub OIDC token -> Entra federation -> ARM bearer token).
import { existsSync, readFileSync } from 'node:fs'
import { ensureBundle } from '../../helpers/bundle.ts'
import { errorText, run, S1, S2, topologyFile, twoRegions, type TwoRegions } from './world.ts'

beforeAll(() => ensureBundle('create-vnet-peering'), 600_000)

const peeringPath = (vnet: string, rg: string, sub: string, name: string) =>
  `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/virtualNetworks/${vnet}/virtualNetworkPeerings/${name}`

describe('create-vnet-peering against the ARM double', () => {
  let t: TwoRegions
  afterEach(async () => t?.arm.close())

  it('peers both directions from a topology file, opens the Cassandra ports, and a re-run makes 0 writes', async () => {
    t = await twoRegions()
    const { arm } = t
    const inputs = { ...arm.inputs(), topology: topologyFile(), 'source-region': 'eastus', 'target-region': 'westeurope', timeout: '60s' }
    const r = await run(arm, inputs)
    expect(errorText(r.stdout)).toBe('')
    expect(r.code).toBe(0)
    expect(r.outputs['source-peering-state']).toBe('Connected')
    expect(r.outputs['target-peering-state']).toBe('Connected')
    expect(r.outputs['source-peering-sync-level']).toBe('FullyInSync')
    expect(r.outputs['source-peering-id']).toBe(peeringPath('vnet-east', 'rg-east', S1, 'vnet-east-to-vnet-west'))
    expect(r.outputs['target-peering-id']).toMatch(/virtualNetworks\/vnet-west\/virtualNetworkPeerings\/vnet-west-to-vnet-east$/)
    // Runbook order: source -> target first (Initiated), then the reverse, then the NSG rules.
    const puts = arm.writes().map((e) => `${e.method} ${e.path.split('/').slice(-3).join('/')} ${e.status}`)
    expect(puts).toEqual([
      'PUT vnet-east/virtualNetworkPeerings/vnet-east-to-vnet-west 201',
      'PUT vnet-west/virtualNetworkPeerings/vnet-west-to-vnet-east 201',
      'PUT nsg-east/securityRules/allow-cassandra-from-vnet-west 201',
      'PUT nsg-west/securityRules/allow-cassandra-from-vnet-east 201'
    ])
    expect(r.stdout).toContain('peering vnet-east-to-vnet-west: Initiated/FullyInSync')
    // The world itself agrees: both Connected, rules open 7000-7001 from the peer's range.
    const east = arm.world.vnet(t.east.id)!
    expect(arm.world.state(east, east.peerings.get('vnet-east-to-vnet-west')!)).toBe('Connected')
    const rule = arm.world.nsgs.get(`/subscriptions/${S1}/resourceGroups/rg-east/providers/Microsoft.Network/networkSecurityGroups/nsg-east`.toLowerCase())!.rules.get('allow-cassandra-from-vnet-west')!
    expect(rule).toMatchObject({ direction: 'Inbound', access: 'Allow', protocol: 'Tcp', priority: 1000, sourceAddressPrefixes: ['192.138.0.0/24'], destinationPortRanges: ['7000-7001'] })
    // Auth went through GitHub OIDC and Entra; every ARM call carried the issued token.
    expect(arm.idTokensIssued).toBeGreaterThan(0)
    expect(arm.log.filter((e) => e.kind === 'entra' && e.method === 'POST').map((e) => e.status)).toEqual([200])
    expect(arm.log.filter((e) => e.kind === 'arm' && e.status === 401)).toEqual([])
    // Summary table and JSON report.
    expect(r.summary).toMatch(/\| vnet-east-to-vnet-west \| vnet-east -> vnet-west \| Connected \| FullyInSync \| create \| allow-cassandra-from-vnet-west \(7000-7001 from 192\.138\.0\.0\/24, priority 1000, created\) \|/)
    expect(existsSync(r.outputs['report-path'])).toBe(true)
    expect(JSON.parse(readFileSync(r.outputs['report-path'], 'utf8'))).toMatchObject({ status: 'succeeded', data: { writes: 4 } })

    arm.clearLog()
    const again = await run(arm, inputs)
    expect(again.code).toBe(0)
    expect(arm.writes()).toEqual([])
    expect(arm.log.filter((e) => e.kind === 'arm').length).toBeGreaterThan(0)
    expect(again.outputs.writes).toBe('0')
    expect(again.stdout).toContain('no changes: everything was already in place (0 writes)')
    expect(again.summary).toContain('create-vnet-peering: unchanged')
    expect(again.summary).toContain('(0 writes)')
  })

  it('refuses overlapping address spaces before any write', async () => {
    t = await twoRegions(['10.1.0.0/16'], ['10.1.128.0/17', '10.9.0.0/16'])
    const r = await run(t.arm, t.inputs)
    expect(r.code).toBe(1)
    expect(errorText(r.stdout)).toContain('address spaces overlap: vnet-east (10.1.0.0/16) and vnet-west (10.1.128.0/17, 10.9.0.0/16): 10.1.0.0/16 overlaps 10.1.128.0/17')
    expect(errorText(r.stdout)).toContain('fix: peered VNets need disjoint address spaces')
    expect(t.arm.writes()).toEqual([])
  })

  it('peers dual-stack VNets (IPv4 + IPv6) with one NSG rule per family, and a re-run makes 0 writes', async () => {
    t = await twoRegions(['10.1.0.0/16', 'fd00:db8:1::/48'], ['10.2.0.0/16', 'fd00:db8:2::/48'])
    const r = await run(t.arm, t.inputs)
    expect(errorText(r.stdout)).toBe('')
    expect(r.code).toBe(0)
    expect(r.outputs['source-peering-state']).toBe('Connected')
    expect(r.outputs['target-peering-sync-level']).toBe('FullyInSync')
    const nsg = (rg: string, name: string, sub: string) => t.arm.world.nsgs.get(`/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/networkSecurityGroups/${name}`.toLowerCase())!
    const east = nsg('rg-east', 'nsg-east', S1).rules
    expect(east.get('allow-cassandra-from-vnet-west')).toMatchObject({ priority: 1000, sourceAddressPrefixes: ['10.2.0.0/16'], destinationAddressPrefixes: ['10.1.0.0/16'], destinationPortRanges: ['7000-7001'] })
    expect(east.get('allow-cassandra-from-vnet-west-ipv6')).toMatchObject({ priority: 1001, sourceAddressPrefixes: ['fd00:db8:2::/48'], destinationAddressPrefixes: ['fd00:db8:1::/48'], destinationPortRanges: ['7000-7001'] })
    const west = nsg('rg-west', 'nsg-west', S2).rules
    expect(west.get('allow-cassandra-from-vnet-east-ipv6')).toMatchObject({ sourceAddressPrefixes: ['fd00:db8:1::/48'], destinationAddressPrefixes: ['fd00:db8:2::/48'] })
    expect(t.arm.writes().map((e) => `${e.path.split('/').pop()} ${e.status}`)).toEqual([
      'vnet-east-to-vnet-west 201',
      'vnet-west-to-vnet-east 201',
      'allow-cassandra-from-vnet-west 201',
      'allow-cassandra-from-vnet-west-ipv6 201',
      'allow-cassandra-from-vnet-east 201',
      'allow-cassandra-from-vnet-east-ipv6 201'
    ])
    t.arm.clearLog()
    const again = await run(t.arm, t.inputs)
    expect(again.code).toBe(0)
    expect(t.arm.writes()).toEqual([])
    expect(again.outputs.writes).toBe('0')
  })

  it('refuses overlapping IPv6 ranges of dual-stack VNets before any write, naming both prefixes', async () => {
    t = await twoRegions(['10.1.0.0/16', 'fd00:db8:1::/48'], ['10.2.0.0/16', 'fd00:db8:1:4000::/56'])
    const r = await run(t.arm, t.inputs)
    expect(r.code).toBe(1)
    expect(errorText(r.stdout)).toContain('fd00:db8:1::/48 overlaps fd00:db8:1:4000::/56')
    expect(errorText(r.stdout)).not.toContain('Invalid subnet mask')
    expect(t.arm.writes()).toEqual([])
  })

  it('mode remove deletes both peerings and only our NSG rules; a re-run makes 0 writes', async () => {
    t = await twoRegions(['10.1.0.0/16', 'fd00:db8:1::/48'], ['10.2.0.0/16', 'fd00:db8:2::/48'])
    expect((await run(t.arm, t.inputs)).code).toBe(0)
    const nsg = (rg: string, name: string, sub: string) => t.arm.world.nsgs.get(`/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/networkSecurityGroups/${name}`.toLowerCase())!.rules
    // Someone else's rules: one unrelated, one under our name pattern but without our mark.
    const theirs = { protocol: 'Tcp', access: 'Allow', direction: 'Inbound', sourcePortRange: '*', destinationPortRange: '22', sourceAddressPrefix: '10.9.0.0/16', destinationAddressPrefix: '*', provisioningState: 'Succeeded' as const, etag: 1 }
    nsg('rg-east', 'nsg-east', S1).set('allow-ssh', { ...theirs, name: 'allow-ssh', priority: 300 })
    const westRules = nsg('rg-west', 'nsg-west', S2)
    westRules.set('allow-cassandra-from-vnet-east-ipv6', { ...westRules.get('allow-cassandra-from-vnet-east-ipv6')!, description: 'hand-made' })
    t.arm.clearLog()
    const r = await run(t.arm, { ...t.inputs, mode: 'remove' })
    expect(errorText(r.stdout)).toBe('')
    expect(r.code).toBe(0)
    expect(t.arm.writes().map((e) => `${e.method} ${e.path.split('/').slice(-1)[0]}`)).toEqual([
      'DELETE vnet-east-to-vnet-west',
      'DELETE vnet-west-to-vnet-east',
      'DELETE allow-cassandra-from-vnet-west',
      'DELETE allow-cassandra-from-vnet-west-ipv6',
      'DELETE allow-cassandra-from-vnet-east'
    ])
    expect(r.stdout).toContain("left alone: rule allow-cassandra-from-vnet-east-ipv6 in nsg-west: not created by mr-actions")
    expect(t.arm.world.vnet(t.east.id)!.peerings.size).toBe(0)
    expect(t.arm.world.vnet(t.west.id)!.peerings.size).toBe(0)
    expect([...nsg('rg-east', 'nsg-east', S1).keys()]).toEqual(['allow-ssh'])
    expect([...westRules.keys()]).toEqual(['allow-cassandra-from-vnet-east-ipv6'])
    t.arm.clearLog()
    const again = await run(t.arm, { ...t.inputs, mode: 'remove' })
    expect(again.code).toBe(0)
    expect(t.arm.writes()).toEqual([])
    expect(again.outputs.writes).toBe('0')
  })

  it('refuses a same-name peering that points at another remote before any write', async () => {
    t = await twoRegions()
    const old = t.arm.world.addVnet({ subscription: S1, resourceGroup: 'rg-east', name: 'vnet-old', addressPrefixes: ['172.16.0.0/16'] })
    t.arm.world.seedPeering(t.east, 'vnet-east-to-vnet-west', old.id)
    const r = await run(t.arm, t.inputs)
    expect(r.code).toBe(1)
    expect(errorText(r.stdout)).toContain(`peering 'vnet-east-to-vnet-west' on vnet-east already exists and points at ${old.id}, not at ${t.west.id}`)
    expect(errorText(r.stdout)).toContain("fix: choose another name with input 'source-peering-name'")
    expect(t.arm.writes()).toEqual([])
  })

  it('times out naming the peering and its state when one stays Initiated', async () => {
    t = await twoRegions()
    t.arm.world.stuck.add(`${t.east.id}/virtualNetworkPeerings/vnet-east-to-vnet-west`.toLowerCase())
    const r = await run(t.arm, { ...t.inputs, timeout: '4s' })
    expect(r.code).toBe(1)
    const err = errorText(r.stdout)
    expect(err).toContain('timed out after 4s waiting for peerings vnet-east-to-vnet-west and vnet-west-to-vnet-east to be Connected and FullyInSync')
    expect(err).toContain('last state: vnet-east-to-vnet-west Initiated/FullyInSync, vnet-west-to-vnet-east Connected/FullyInSync')
    expect(err).toContain('fix: a peering stays Initiated while its reverse peering is missing')
    // The two peerings were written; the NSG rules were not (the run stopped at the wait).
    expect(t.arm.writes().map((e) => e.path.split('/').pop())).toEqual(['vnet-east-to-vnet-west', 'vnet-west-to-vnet-east'])
  })

  it('survives 429 (Retry-After) and 500/503 bursts', async () => {
    t = await twoRegions()
    t.arm.inject({ status: 429, count: 2, retryAfterSec: 1, method: 'PUT' })
    t.arm.inject({ status: 503, count: 3, method: 'GET', path: /virtualNetworks\/vnet-west$/ })
    t.arm.inject({ status: 500, count: 2, method: 'GET', path: /operations\// })
    const r = await run(t.arm, t.inputs)
    expect(errorText(r.stdout)).toBe('')
    expect(r.code).toBe(0)
    expect(r.outputs['target-peering-state']).toBe('Connected')
    const statuses = t.arm.log.filter((e) => e.kind === 'arm').map((e) => e.status)
    expect(statuses.filter((s) => s === 429)).toHaveLength(2)
    expect(statuses.filter((s) => s === 503)).toHaveLength(3)
    expect(statuses.filter((s) => s === 500)).toHaveLength(2)
    // Retried writes are the same idempotent PUTs: 2 rejected with 429, then 4 that succeed.
    expect(t.arm.writes().filter((e) => e.status < 300)).toHaveLength(4)
  })

  it('syncs the remote address space after the peer VNet grew (RemoteNotInSync) and widens the NSG rule', async () => {
    t = await twoRegions()
    expect((await run(t.arm, t.inputs)).code).toBe(0)
    t.arm.world.setAddressSpace(t.west.id, ['192.138.0.0/24', '192.139.0.0/24'])
    const east = t.arm.world.vnet(t.east.id)!
    expect(t.arm.world.syncLevel(east, east.peerings.get('vnet-east-to-vnet-west')!)).toBe('RemoteNotInSync')
    t.arm.clearLog()
    const r = await run(t.arm, t.inputs)
    expect(errorText(r.stdout)).toBe('')
    expect(r.outputs['source-peering-sync-level']).toBe('FullyInSync')
    expect(r.outputs['target-peering-sync-level']).toBe('FullyInSync')
    const writes = t.arm.writes().map((e) => `${e.path.split('/').pop()}${e.query.includes('syncRemoteAddressSpace=true') ? ' sync' : ''}`)
    // The east rule's source and the west rule's destination both follow the new west range.
    expect(writes).toEqual(['vnet-east-to-vnet-west sync', 'allow-cassandra-from-vnet-west', 'allow-cassandra-from-vnet-east'])
    expect(r.stdout).toContain('RemoteNotInSync: sync the remote address space')
  })

  it('dry-run prints the plan and writes nothing', async () => {
    t = await twoRegions()
    const r = await run(t.arm, { ...t.inputs, 'dry-run': 'true' })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/create\s+peering vnet-east-to-vnet-west \(vnet-east -> vnet-west\)/)
    expect(r.stdout).toContain('dry run: 4 write(s) planned, none made')
    expect(r.outputs['source-peering-state']).toBe('absent')
    expect(t.arm.writes()).toEqual([])
  })

  it('a federated credential that does not match fails with the Entra reason and no ARM call', async () => {
    t = await twoRegions()
    const r = await run(t.arm, { ...t.inputs, 'client-id': '99999999-9999-4999-8999-999999999999' })
    expect(r.code).toBe(1)
    const err = errorText(r.stdout)
    expect(err).toContain('could not authenticate to Azure')
    expect(err).toContain('AADSTS700016')
    expect(err).toContain('fix: with OIDC')
    expect(t.arm.log.filter((e) => e.kind === 'arm')).toEqual([])
  })
})
