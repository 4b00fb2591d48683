// The ARM double against the real @azure/arm-network client (through src/core/azure/client.ts,
// with the real OIDC -> Entra token path): the peering state machine, sync levels, refusals and
// the 401 for calls without a token it issued.
import { request } from 'node:https'
import { readFileSync } from 'node:fs'
import { type ArmDouble, startArmDouble } from '../../sandbox/arm/server.ts'
import { connect, type NetworkApi } from '../../src/core/azure/client.ts'

const S = '33333333-3333-4333-8333-333333333333'
const flags = { allowVirtualNetworkAccess: true, allowForwardedTraffic: false, allowGatewayTransit: false, useRemoteGateways: false }
let arm: ArmDouble
let api: NetworkApi
const saved = { ...process.env }

beforeAll(async () => {
  arm = await startArmDouble({ lroRetryAfterSec: 0, lroPolls: 0 })
  arm.world.addVnet({ subscription: S, resourceGroup: 'rg', name: 'a', addressPrefixes: ['10.1.0.0/16'] })
  arm.world.addVnet({ subscription: S, resourceGroup: 'rg', name: 'b', addressPrefixes: ['10.2.0.0/16'] })
  arm.world.addVnet({ subscription: S, resourceGroup: 'rg', name: 'c', addressPrefixes: ['10.1.128.0/17'] })
  arm.world.addVnet({ subscription: S, resourceGroup: 'rg', name: 'd6', addressPrefixes: ['10.4.0.0/16', 'fd00:db8:4::/48'] })
  arm.world.addVnet({ subscription: S, resourceGroup: 'rg', name: 'e6', addressPrefixes: ['10.5.0.0/16', 'fd00:db8:4:1::/64'] })
  arm.world.addNsg({ subscription: S, resourceGroup: 'rg', name: 'nsg' })
  Object.assign(process.env, arm.runnerEnv())
  const i = arm.inputs()
  api = connect({ endpoint: i['azure-endpoint'], authorityHost: i['azure-authority-host'], ca: readFileSync(arm.caFile, 'utf8'), tenantId: arm.tenantId, clientId: arm.clientId }, { pollMs: 50 }).forSubscription(S)
})
afterAll(async () => {
  process.env = saved
  await arm.close()
})

const vid = (n: string) => `/subscriptions/${S}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/${n}`

it('a peering is Initiated until its reverse exists, then both are Connected; deleting one disconnects the other', async () => {
  const ab = await api.putPeering('rg', 'a', 'a-to-b', vid('b'), flags, false)
  expect([ab.peeringState, ab.peeringSyncLevel, ab.provisioningState]).toEqual(['Initiated', 'FullyInSync', 'Succeeded'])
  const ba = await api.putPeering('rg', 'b', 'b-to-a', vid('a'), flags, false)
  expect(ba.peeringState).toBe('Connected')
  expect((await api.getPeering('rg', 'a', 'a-to-b'))?.peeringState).toBe('Connected')
  expect((await api.getVnet('rg', 'a')).peerings.map((p) => [p.name, p.remoteId, p.peeringState])).toEqual([['a-to-b', vid('b'), 'Connected']])
  // The address space of b grows: a's peering is RemoteNotInSync, b's LocalNotInSync, until a syncs.
  arm.world.setAddressSpace(vid('b'), ['10.2.0.0/16', '10.3.0.0/16'])
  expect((await api.getPeering('rg', 'a', 'a-to-b'))?.peeringSyncLevel).toBe('RemoteNotInSync')
  expect((await api.getPeering('rg', 'b', 'b-to-a'))?.peeringSyncLevel).toBe('LocalNotInSync')
  await api.putPeering('rg', 'a', 'a-to-b', vid('b'), flags, true)
  expect(arm.log.some((e) => e.method === 'PUT' && e.query.includes('syncRemoteAddressSpace=true'))).toBe(true)
  expect((await api.getPeering('rg', 'a', 'a-to-b'))?.peeringSyncLevel).toBe('FullyInSync')
  expect((await api.getPeering('rg', 'b', 'b-to-a'))?.peeringSyncLevel).toBe('FullyInSync')
  await api.deletePeering('rg', 'b', 'b-to-a')
  expect(await api.getPeering('rg', 'b', 'b-to-a')).toBeUndefined()
  expect((await api.getPeering('rg', 'a', 'a-to-b'))?.peeringState).toBe('Disconnected')
  // The PUT went through the long-running-operation protocol.
  expect(arm.log.some((e) => e.method === 'GET' && /\/locations\/eastus\/operations\//.test(e.path))).toBe(true)
})

it('refuses what Azure refuses, with its error code', async () => {
  await expect(api.putPeering('rg', 'a', 'a-to-c', vid('c'), flags, false)).rejects.toThrow(/VnetAddressSpacesOverlap/)
  await expect(api.putPeering('rg', 'd6', 'd6-to-e6', vid('e6'), flags, false)).rejects.toThrow(/VnetAddressSpacesOverlap.*fd00:db8:4::\/48 and fd00:db8:4:1::\/64/)
  const rule = { name: 'mixed', priority: 1000, direction: 'Inbound' as const, access: 'Allow' as const, protocol: 'Tcp' as const, sourcePortRange: '*' as const, sourceAddressPrefixes: ['10.4.0.0/16', 'fd00:db8:4::/48'], destinationAddressPrefixes: ['10.5.0.0/16'], destinationPortRanges: ['7000-7001'], description: '' }
  await expect(api.putRule('rg', 'nsg', rule)).rejects.toThrow(/ResourceCannotContainAddressPrefixesFromDifferentAddressFamilies/)
  await expect(api.getVnet('rg', 'nope')).rejects.toThrow(/read virtual network nope in resource group rg .*not found/)
})

it('answers 401 to a call without a token it issued', async () => {
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${arm.url}/subscriptions/${S}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/a?api-version=2026-01-01`, { ca: readFileSync(arm.caFile), headers: { authorization: 'Bearer forged' } }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.end()
  })
  expect(status).toBe(401)
})
