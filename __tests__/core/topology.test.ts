import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ActionError, InputErrors } from '../../src/core/errors.ts'
import { loadTopology, parseTopology, regionOf } from '../../src/core/topology.ts'

const good = `
cassandra: { namespace: apigee, clusterName: apigeecluster }
regions:
  eastus:
    azure: { subscription: 11111111-1111-4111-8111-111111111111, resourceGroup: my-hybrid-rg, vnet: my-hybrid-rg-vnet, nsg: nsg-east, addressSpace: 120.38.1.0/24 }
    kube: { context: aks-eastus }
    cassandra: { datacenter: dc-1, rack: ra-1 }
    ingress: { url: https://api.example.com, body: 'v1' }
  westeurope:
    azure: { subscription: 22222222-2222-4222-8222-222222222222, resourceGroup: rg-we, vnet: vnet-we, addressSpace: [192.138.0.0/24, 192.139.0.0/24] }
    cassandra: { datacenter: dc-2 }
    k8sCluster: { name: aks-westeurope, region: westeurope }
`

const errorsOf = (text: string): string[] => {
  try {
    parseTopology(text, 't.yml')
  } catch (e) {
    if (e instanceof InputErrors) return e.errors.map((x) => x.message)
    if (e instanceof ActionError) return [e.message]
    throw e
  }
  return []
}

describe('parseTopology', () => {
  it('reads regions with defaults', () => {
    const t = parseTopology(good, 't.yml')
    expect(Object.keys(t.regions)).toEqual(['eastus', 'westeurope'])
    expect(t.regions.eastus.azure).toEqual({ subscription: '11111111-1111-4111-8111-111111111111', resourceGroup: 'my-hybrid-rg', vnet: 'my-hybrid-rg-vnet', nsg: 'nsg-east' })
    expect(t.regions.westeurope.cassandra.datacenter).toBe('dc-2')
    expect(t.regions.westeurope.k8sCluster).toEqual({ name: 'aks-westeurope', region: 'westeurope' })
    expect(t.regions.eastus.k8sCluster).toEqual({ name: undefined, region: undefined })
    expect(t.cassandra).toMatchObject({ namespace: 'apigee', credentialsSecret: 'apigee-datastore-default-creds', caSecret: 'apigee-ca', caNamespace: 'cert-manager' })
    expect(t.addressSpaces).toEqual({ eastus: ['120.38.1.0/24'], westeurope: ['192.138.0.0/24', '192.139.0.0/24'] })
  })

  it('names each bad field with its fix', () => {
    const errs = errorsOf(`
regions:
  eastus:
    azure: { subscription: not-a-guid, vnet: 'bad vnet!', addressSpace: [10.0.0.0/33] }
    cassandra: { datacenter: dc-1 }
    k8sCluster: { name: 'aks east', zone: b }
    colour: blue
  West_Europe:
    cassandra: { datacenter: dc-1 }
`)
    expect(errs).toEqual(
      expect.arrayContaining([
        "topology t.yml: regions.eastus.azure.subscription: 'not-a-guid' is not valid",
        "topology t.yml: regions.eastus.azure.vnet: 'bad vnet!' is not valid",
        'topology t.yml: regions.eastus.azure.addressSpace: not CIDR: 10.0.0.0/33',
        'topology t.yml: regions.eastus.colour: unknown field',
        "topology t.yml: regions.eastus.k8sCluster.name: 'aks east' is not valid",
        'topology t.yml: regions.eastus.k8sCluster.zone: unknown field',
        "topology t.yml: regions.West_Europe: 'West_Europe' is not a valid region key",
        "topology t.yml: regions.West_Europe.cassandra.datacenter: 'dc-1' is also the datacenter of region eastus"
      ])
    )
    expect(errs).toHaveLength(8)
  })

  it('reads the cloud endpoints of the azure: section, and refuses non-https ones', () => {
    const t = parseTopology(`azure: { endpoint: https://management.usgovcloudapi.net, authorityHost: 'https://login.microsoftonline.us', ca: certs/ca.pem }\n${good}`, 't.yml')
    expect(t.azure).toEqual({ endpoint: 'https://management.usgovcloudapi.net', authorityHost: 'https://login.microsoftonline.us', ca: 'certs/ca.pem' })
    expect(parseTopology(good, 't.yml').azure).toEqual({ endpoint: undefined, authorityHost: undefined, ca: undefined })
    expect(errorsOf(`azure: { endpoint: 'http://127.0.0.1:8443', authorityHost: 'login.microsoftonline.com', cloud: china }\n${good}`)).toEqual([
      'topology t.yml: azure.cloud: unknown field',
      "topology t.yml: azure.endpoint: 'http://127.0.0.1:8443' is not an https URL",
      "topology t.yml: azure.authorityHost: 'login.microsoftonline.com' is not an https URL"
    ])
  })

  it('reads where the mesh objects live (mesh:), one error per mistake naming field, value and fix', () => {
    expect(parseTopology(good, 't.yml').mesh).toBeUndefined()
    expect(parseTopology(`mesh: { namespace: istio-config, region: westeurope }\n${good}`, 't.yml').mesh).toEqual({ namespace: 'istio-config', region: 'westeurope' })
    expect(parseTopology(`mesh: { namespace: apigee }\n${good}`, 't.yml').mesh).toEqual({ namespace: 'apigee', region: undefined })
    const fixes = (text: string): string[] => {
      try {
        parseTopology(text, 't.yml')
      } catch (e) {
        return (e instanceof InputErrors ? e.errors : [e as ActionError]).map((x) => x.describe())
      }
      return []
    }
    expect(fixes(`mesh: { namespace: apigee, region: northpole }\n${good}`)).toEqual([
      "topology t.yml: mesh.region: 'northpole' is not a region of this file\n  fix: name the region whose cluster holds the DestinationRules and VirtualServices, one of: eastus, westeurope"
    ])
    expect(errorsOf(`mesh: { namespace: Istio_Config, region: eastus }\n${good}`)).toEqual(["topology t.yml: mesh.namespace: 'Istio_Config' is not valid"])
    expect(errorsOf(`mesh: { namespace: apigee, region: East_US }\n${good}`)).toEqual(["topology t.yml: mesh.region: 'East_US' is not valid"])
    expect(errorsOf(`mesh: { region: eastus }\n${good}`)).toEqual(['topology t.yml: mesh.namespace: missing'])
    expect(errorsOf(`mesh: { namespace: apigee, context: aks-eastus }\n${good}`)).toEqual(['topology t.yml: mesh.context: unknown field'])
    expect(errorsOf(`mesh: istio-system\n${good}`)).toEqual(['topology t.yml: mesh: must be a mapping'])
    // no regions at all: that is the one mistake, not the mesh's region
    expect(errorsOf('mesh: { namespace: apigee, region: eastus }\n')).toEqual(['topology t.yml: regions: missing or empty'])
  })

  it('refuses bad YAML and missing regions', () => {
    expect(errorsOf('regions: [unclosed')[0]).toMatch(/^topology t\.yml: not valid YAML/)
    expect(errorsOf('cassandra: {}')).toEqual(['topology t.yml: regions: missing or empty'])
    expect(errorsOf('- a\n- b')).toEqual(["topology t.yml: must be a mapping with 'regions:'"])
    expect(errorsOf('regions:\n  eastus:\n    azure: [1, 2]')).toEqual(['topology t.yml: regions.eastus.azure: must be a mapping'])
  })

  it('loads from a file and says when it is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'topo-'))
    writeFileSync(join(dir, 'mr-topology.yml'), good)
    expect(Object.keys(loadTopology(join(dir, 'mr-topology.yml')).regions)).toHaveLength(2)
    expect(() => loadTopology(join(dir, 'nope.yml'))).toThrow(/topology file '.*nope\.yml' does not exist/)
  })

  it('regionOf names the input and the regions that exist', () => {
    const t = parseTopology(good, 't.yml')
    expect(regionOf(t, 'eastus', 'source-region').name).toBe('eastus')
    let err: unknown
    try {
      regionOf(t, 'mars', 'target-region')
    } catch (e) {
      err = e
    }
    expect((err as ActionError).describe()).toBe("input 'target-region': region 'mars' is not in topology t.yml\n  fix: use one of: eastus, westeurope")
    expect(regionOf(undefined, 'x', 'source-region').azure).toEqual({})
  })
})
