// Bad inputs: each gives a clear error naming the input (or topology field), the bad value and
// the fix, and the action makes no request that changes anything (asserted on the double's log).
import { ensureBundle } from '../../helpers/bundle.ts'
import { errorText, run, S1, topologyFile, twoRegions, type TwoRegions, TOPOLOGY } from './world.ts'

beforeAll(() => ensureBundle('create-vnet-peering'), 600_000)

let t: TwoRegions
beforeAll(async () => {
  t = await twoRegions()
})
afterAll(async () => t?.arm.close())

const topo = (): Record<string, string> => ({ ...t.arm.inputs(), topology: topologyFile(), 'source-region': 'eastus', 'target-region': 'westeurope' })
const without = (o: Record<string, string>, ...keys: string[]): Record<string, string> => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)))

// [name, inputs, expected texts, number of errors (default 1: one mistake, one error)]
const cases: Array<[string, () => Record<string, string>, string[], number?]> = [
  ['missing subscription', () => without(t.inputs, 'source-subscription'), ["input 'source-subscription': is required", 'fix: an Azure subscription ID']],
  ['malformed subscription', () => ({ ...t.inputs, 'target-subscription': 'my-sub' }), ["input 'target-subscription': 'my-sub' is not valid", 'fix: an Azure subscription ID (a GUID']],
  ['bad vnet name', () => ({ ...t.inputs, 'target-vnet': 'vnet west!' }), ["input 'target-vnet': 'vnet west!' is not valid", 'fix: an Azure resource name']],
  ['bad resource group', () => ({ ...t.inputs, 'source-resource-group': 'rg.' }), ["input 'source-resource-group': 'rg.' is not valid", 'not ending in .']],
  ['bad peering name', () => ({ ...t.inputs, 'source-peering-name': '-peer' }), ["input 'source-peering-name': '-peer' is not valid"]],
  ['default peering name too long', () => ({ ...t.inputs, 'source-vnet': 'v'.repeat(50), 'target-vnet': 'w'.repeat(50) }), ["input 'source-peering-name': the default name", "set 'source-peering-name' explicitly", "set 'target-peering-name' explicitly"], 2],
  ['ports out of range', () => ({ ...t.inputs, ports: '7000-70000' }), ["input 'ports': '7000-70000' is outside 1-65535", "fix: ports 1-65535 as '7000-7001'"]],
  ['ports not numbers', () => ({ ...t.inputs, ports: 'cassandra' }), ["input 'ports': 'cassandra' is not a port or range"]],
  ['timeout malformed', () => ({ ...t.inputs, timeout: 'ten minutes' }), ["input 'timeout': not a duration (got 'ten minutes')", 'fix: a duration such as 30s']],
  ['timeout too short', () => ({ ...t.inputs, timeout: '0s' }), ["input 'timeout': shorter than 1000ms (got '0s')"]],
  ['dry-run not a boolean', () => ({ ...t.inputs, 'dry-run': 'yes' }), ["input 'dry-run': not a boolean (got 'yes')", "fix: 'true' or 'false'"]],
  ['both gateway flags', () => ({ ...t.inputs, 'allow-gateway-transit': 'true', 'use-remote-gateways': 'true' }), ["inputs 'allow-gateway-transit' and 'use-remote-gateways' are both true"]],
  ['tenant without client', () => without(t.inputs, 'client-id'), ["input 'client-id' is required when 'tenant-id' is set"]],
  ['malformed tenant', () => ({ ...t.inputs, 'tenant-id': 'contoso.onmicrosoft.com' }), ["input 'tenant-id': 'contoso.onmicrosoft.com' is not valid", 'fix: an Entra tenant ID (a GUID)']],
  ['insecure endpoint', () => ({ ...t.inputs, 'azure-endpoint': 'http://127.0.0.1:1' }), ["input 'azure-endpoint': 'http://127.0.0.1:1' is not valid", 'fix: an https URL']],
  ['CA file missing', () => ({ ...t.inputs, 'azure-ca': '/nonexistent/ca.pem' }), ["input 'azure-ca': file '/nonexistent/ca.pem' does not exist"]],
  ['same VNet twice', () => ({ ...t.inputs, 'target-subscription': S1, 'target-resource-group': 'rg-east', 'target-vnet': 'vnet-east' }), ["source and target are the same virtual network 'vnet-east'"]],
  ['topology file missing', () => ({ ...topo(), topology: '/nonexistent/mr-topology.yml' }), ["topology file '/nonexistent/mr-topology.yml' does not exist", "fix: set input 'topology'"]],
  ['topology bad subscription field', () => ({ ...topo(), topology: topologyFile(TOPOLOGY.replace(`subscription: ${S1}`, 'subscription: east-sub')) }), ["regions.eastus.azure.subscription: 'east-sub' is not valid"]],
  ['topology bad address space', () => ({ ...topo(), topology: topologyFile(TOPOLOGY.replace('nsg: nsg-east }', 'nsg: nsg-east, addressSpace: 10.0.0.0/40 }')) }), ['regions.eastus.azure.addressSpace: not CIDR: 10.0.0.0/40']],
  ['topology region missing vnet', () => ({ ...topo(), topology: topologyFile(TOPOLOGY.replace(' vnet: vnet-west,', '')) }), ["input 'target-vnet': is required and topology regions.westeurope.azure.vnet is not set"]],
  ['region not in topology', () => ({ ...topo(), 'target-region': 'mars' }), ["input 'target-region': region 'mars' is not in topology", 'fix: use one of: eastus, westeurope']],
  ['region without topology', () => ({ ...t.inputs, 'source-region': 'eastus' }), ["input 'source-region': 'eastus' needs a topology file"]],
  ['same region twice', () => ({ ...topo(), 'target-region': 'eastus' }), ["inputs 'source-region' and 'target-region' are both 'eastus'"]],
  // one mistake, one error: the fields the topology would have filled are not also 'required'
  ['topology without target-region', () => without(topo(), 'target-region'), ["input 'target-region': is required", 'fix: a region key']],
  ['malformed region key', () => ({ ...topo(), 'source-region': 'East US' }), ["input 'source-region': 'East US' is not valid", 'fix: a region key']],
  ['malformed tenant with a client', () => ({ ...t.inputs, 'tenant-id': 'contoso', 'client-id': '11111111-1111-1111-1111-111111111111' }), ["input 'tenant-id': 'contoso' is not valid"]]
]

describe('create-vnet-peering refuses bad inputs before any change', () => {
  it.each(cases)('%s', async (_name, inputs, expected, count = 1) => {
    const before = t.arm.log.length
    const r = await run(t.arm, inputs())
    expect(r.code).toBe(1)
    const err = errorText(r.stdout)
    for (const e of expected) expect(err).toContain(e)
    expect(err.split('\n').filter((l) => /^\s*fix: /.test(l))).toHaveLength(count)
    // Not one request reached Azure, let alone a write.
    expect(t.arm.log.slice(before)).toEqual([])
    expect(t.arm.writes()).toEqual([])
  })

  it('reports several bad inputs in one run', async () => {
    const r = await run(t.arm, { ...t.inputs, 'source-subscription': 'x', ports: '0', timeout: 'never' })
    const err = errorText(r.stdout)
    expect(err).toContain("input 'source-subscription'")
    expect(err).toContain("input 'ports'")
    expect(err).toContain("input 'timeout'")
  })
})
