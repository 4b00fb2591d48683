import { family, normalizePrefixes, ofFamily, overlapPairs, overlaps, samePrefixes } from '../../../src/core/azure/cidr.ts'
import { flagsFor, isSettled, planPeering, type Side, type VnetState } from '../../../src/core/azure/peering-plan.ts'
import { InputErrors, PreflightError } from '../../../src/core/errors.ts'

describe('cidr', () => {
  it.each([
    ['10.0.0.0/16', '10.0.255.0/24', true],
    ['10.0.0.0/16', '10.1.0.0/16', false],
    ['120.38.1.0/24', '192.138.0.0/24', false],
    ['10.0.0.0/8', '10.200.3.0/28', true],
    ['10.0.0.0/24', '10.0.1.0/24', false],
    ['10.0.0.255/32', '10.0.0.0/24', true],
    ['fd00:db8:1::/48', 'fd00:db8:1:8000::/64', true],
    ['fd00:db8:1::/48', 'fd00:db8:2::/48', false],
    ['fd00::/8', 'fdff:1::/64', true],
    ['10.0.0.0/8', 'fd00::/8', false],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8', false]
  ])('%s vs %s -> %s', (a, b, want) => {
    expect(overlaps(a, b)).toBe(want)
    expect(overlaps(b, a)).toBe(want)
  })
  it('lists every overlapping pair', () => {
    expect(overlapPairs(['10.0.0.0/16', '172.16.0.0/12'], ['10.0.4.0/24', '192.168.0.0/16', '172.20.0.0/16'])).toEqual([
      ['10.0.0.0/16', '10.0.4.0/24'],
      ['172.16.0.0/12', '172.20.0.0/16']
    ])
  })
  it('normalizes prefixes for comparison', () => {
    expect(normalizePrefixes(['10.0.1.7/16', '10.0.0.0/16', '192.168.1.0/24'])).toEqual(['10.0.0.0/16', '192.168.1.0/24'])
    expect(samePrefixes(['10.0.0.0/16', '10.1.0.0/16'], ['10.1.0.0/16', '10.0.0.0/16'])).toBe(true)
    expect(samePrefixes(['10.0.0.0/16'], ['10.0.0.0/17'])).toBe(false)
    expect(normalizePrefixes(['FD00:DB8:1:0::7/48', '10.0.0.0/16'])).toEqual(['10.0.0.0/16', 'fd00:db8:1::/48'])
    expect(samePrefixes(['fd00:db8:1::/48', '10.0.0.0/16'], ['10.0.0.0/16', 'fd00:0db8:0001::/48'])).toBe(true)
  })
  it('splits a dual-stack address space by family and names a malformed prefix', () => {
    expect(family('10.1.0.0/16')).toBe(4)
    expect(family('fd00:db8:1::/48')).toBe(6)
    expect(ofFamily(['10.1.0.0/16', 'fd00:db8:1::/48', '10.2.0.0/16'], 6)).toEqual(['fd00:db8:1::/48'])
    expect(ofFamily(['10.1.0.0/16', 'fd00:db8:1::/48', '10.2.0.0/16'], 4)).toEqual(['10.1.0.0/16', '10.2.0.0/16'])
    expect(() => overlaps('10.1.0.0/33', '10.2.0.0/16')).toThrow(/'10\.1\.0\.0\/33' is not an IPv4 or IPv6 prefix in CIDR notation/)
  })
})

const S = '11111111-1111-4111-8111-111111111111'
const side = (role: 'source' | 'target', vnet: string, peeringName: string): Side => ({ role, subscription: S, resourceGroup: `rg-${vnet}`, vnet, peeringName })
const id = (vnet: string): string => `/subscriptions/${S}/resourceGroups/rg-${vnet}/providers/Microsoft.Network/virtualNetworks/${vnet}`
const src = side('source', 'east', 'east-to-west')
const dst = side('target', 'west', 'west-to-east')
const opts = { allowForwardedTraffic: false, allowGatewayTransit: false, useRemoteGateways: false }
const vnet = (name: string, prefixes: string[], peerings: VnetState['peerings'] = []): VnetState => ({ id: id(name), addressPrefixes: prefixes, peerings })
const connected = (name: string, remote: string, extra: object = {}) => ({
  name,
  remoteId: id(remote),
  peeringState: 'Connected',
  peeringSyncLevel: 'FullyInSync',
  provisioningState: 'Succeeded',
  allowVirtualNetworkAccess: true,
  allowForwardedTraffic: false,
  allowGatewayTransit: false,
  useRemoteGateways: false,
  ...extra
})

describe('planPeering', () => {
  it('creates both directions when nothing exists, source first', () => {
    const p = planPeering(src, dst, vnet('east', ['120.38.1.0/24']), vnet('west', ['192.138.0.0/24']), opts)
    expect(p.actions.map((a) => [a.kind, a.side.peeringName, a.remoteId])).toEqual([
      ['create', 'east-to-west', id('west')],
      ['create', 'west-to-east', id('east')]
    ])
    expect(p.writes).toBe(2)
    expect(p.actions[0].peeringId).toBe(`${id('east')}/virtualNetworkPeerings/east-to-west`)
  })

  it('keeps a correct setup: 0 writes', () => {
    const p = planPeering(src, dst, vnet('east', ['120.38.1.0/24'], [connected('east-to-west', 'west')]), vnet('west', ['192.138.0.0/24'], [connected('west-to-east', 'east')]), opts)
    expect(p.actions.map((a) => a.kind)).toEqual(['keep', 'keep'])
    expect(p.writes).toBe(0)
  })

  it('matches existing peering names case-insensitively', () => {
    const p = planPeering(src, dst, vnet('east', ['10.1.0.0/16'], [connected('EAST-TO-WEST', 'west')]), vnet('west', ['10.2.0.0/16']), opts)
    expect(p.actions.map((a) => a.kind)).toEqual(['keep', 'create'])
  })

  it('refuses overlapping address spaces, naming both ranges', () => {
    expect(() => planPeering(src, dst, vnet('east', ['10.1.0.0/16']), vnet('west', ['10.1.128.0/17']), opts)).toThrow(/address spaces overlap: east \(10\.1\.0\.0\/16\) and west \(10\.1\.128\.0\/17\): 10\.1\.0\.0\/16 overlaps 10\.1\.128\.0\/17/)
  })

  it('plans a dual-stack pair with separate ranges', () => {
    const p = planPeering(src, dst, vnet('east', ['10.1.0.0/16', 'fd00:db8:1::/48']), vnet('west', ['10.2.0.0/16', 'fd00:db8:2::/48']), opts)
    expect(p.actions.map((a) => a.kind)).toEqual(['create', 'create'])
  })

  it('refuses an IPv6 overlap of dual-stack VNets, naming both prefixes', () => {
    expect(() => planPeering(src, dst, vnet('east', ['10.1.0.0/16', 'fd00:db8:1::/48']), vnet('west', ['10.2.0.0/16', 'fd00:db8:1:4000::/56']), opts)).toThrow(
      /address spaces overlap: east \(10\.1\.0\.0\/16, fd00:db8:1::\/48\) and west \(10\.2\.0\.0\/16, fd00:db8:1:4000::\/56\): fd00:db8:1::\/48 overlaps fd00:db8:1:4000::\/56$/m
    )
  })

  it('refuses a same-name peering that points at another remote', () => {
    const stale = { ...connected('east-to-west', 'old'), remoteId: id('old') }
    let err: unknown
    try {
      planPeering(src, dst, vnet('east', ['10.1.0.0/16'], [stale]), vnet('west', ['10.2.0.0/16']), opts)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(PreflightError)
    expect((err as PreflightError).message).toContain(`peering 'east-to-west' on east already exists and points at ${id('old')}, not at ${id('west')}`)
    expect((err as PreflightError).hint).toContain("'source-peering-name'")
  })

  it('refuses a second peering to the same remote under another name', () => {
    expect(() => planPeering(src, dst, vnet('east', ['10.1.0.0/16'], [connected('legacy', 'west')]), vnet('west', ['10.2.0.0/16']), opts)).toThrow(/already peered with .* through peering 'legacy'/)
  })

  it('reports every refusal at once', () => {
    const stale = (n: string) => ({ ...connected(n, 'old'), remoteId: id('old') })
    expect(() => planPeering(src, dst, vnet('east', ['10.1.0.0/16'], [stale('east-to-west')]), vnet('west', ['10.2.0.0/16'], [stale('west-to-east')]), opts)).toThrow(InputErrors)
  })

  it('updates differing flags, recreates Disconnected, syncs RemoteNotInSync', () => {
    const p = planPeering(
      src,
      dst,
      vnet('east', ['10.1.0.0/16'], [connected('east-to-west', 'west', { peeringSyncLevel: 'RemoteNotInSync' })]),
      vnet('west', ['10.2.0.0/16'], [connected('west-to-east', 'east', { peeringState: 'Disconnected' })]),
      opts
    )
    expect(p.actions.map((a) => a.kind)).toEqual(['sync', 'recreate'])
    expect(p.writes).toBe(3)
    const q = planPeering(src, dst, vnet('east', ['10.1.0.0/16'], [connected('east-to-west', 'west')]), vnet('west', ['10.2.0.0/16'], [connected('west-to-east', 'east')]), { ...opts, allowForwardedTraffic: true })
    expect(q.actions.map((a) => [a.kind, a.reason])).toEqual([
      ['update', 'allowForwardedTraffic false -> true'],
      ['update', 'allowForwardedTraffic false -> true']
    ])
  })

  it('mirrors gateway flags on the reverse peering', () => {
    expect(flagsFor('source', { ...opts, useRemoteGateways: true })).toMatchObject({ useRemoteGateways: true, allowGatewayTransit: false })
    expect(flagsFor('target', { ...opts, useRemoteGateways: true })).toMatchObject({ useRemoteGateways: false, allowGatewayTransit: true })
  })

  it('settled means Connected, FullyInSync and provisioned', () => {
    expect(isSettled(connected('a', 'b'))).toBe(true)
    expect(isSettled(connected('a', 'b', { peeringState: 'Initiated' }))).toBe(false)
    expect(isSettled(connected('a', 'b', { peeringSyncLevel: 'LocalNotInSync' }))).toBe(false)
    expect(isSettled(connected('a', 'b', { provisioningState: 'Updating' }))).toBe(false)
    expect(isSettled(undefined)).toBe(false)
  })
})
