import { k8sClusterClash, Overrides } from '../../../src/core/overrides/overrides.ts'

const SOURCE = `# Apigee hybrid overrides, region eastus
gcp:
  region: us-east1 # the GCP analytics region
  projectID: my-project
k8sCluster:
  name: aks-eastus
  region: eastus
instanceID: "hybrid-eastus"   # unique per installation

cassandra:
  # AKS runs pods in island mode: Cassandra needs the node network
  hostNetwork: true
  clusterName: apigeecluster
  datacenter: "dc-1"   # the datacenter of this region
  rack: "ra-1"
  replicaCount: 3
  auth:
    secret: apigee-datastore-default-creds

# analytics
logger:
  enabled: false
`

describe('Overrides', () => {
  it('reads the settings preflight compares', () => {
    const o = Overrides.parse(SOURCE, 'overrides-eastus.yaml')
    expect(o.instanceID).toBe('hybrid-eastus')
    expect(o.cassandra).toEqual({ clusterName: 'apigeecluster', datacenter: 'dc-1', rack: 'ra-1', hostNetwork: true, multiRegionSeedHost: undefined })
  })
  it('sets the seed settings keeping every comment, key and the order', () => {
    const o = Overrides.parse(SOURCE, 'x.yaml')
    expect(o.setSeed({ seedHosts: ['10.0.0.4', '10.0.1.4'], datacenter: 'dc-2', rack: 'ra-1' })).toEqual(['cassandra.multiRegionSeedHost', 'cassandra.datacenter'])
    const text = o.toString()
    for (const comment of ['# Apigee hybrid overrides, region eastus', '# the GCP analytics region', '# unique per installation', '# AKS runs pods in island mode', '# the datacenter of this region', '# analytics']) {
      expect(text).toContain(comment)
    }
    expect(text).toContain('datacenter: "dc-2" # the datacenter of this region')
    expect(text).toContain('multiRegionSeedHost: 10.0.0.4,10.0.1.4')
    const keys = text.split('\n').filter((l) => /^\w/.test(l)).map((l) => l.split(':')[0])
    expect(keys).toEqual(['gcp', 'k8sCluster', 'instanceID', 'cassandra', 'logger'])
    // idempotent
    const again = Overrides.parse(text, 'x.yaml')
    expect(again.setSeed({ seedHosts: ['10.0.0.4', '10.0.1.4'], datacenter: 'dc-2', rack: 'ra-1' })).toEqual([])
    expect(again.toString()).toBe(text)
  })
  it('turns hostNetwork on and creates the cassandra block when missing', () => {
    const o = Overrides.parse('# only a comment\ninstanceID: x\n', 'y.yaml')
    expect(o.setSeed({ seedHosts: ['1.2.3.4'], datacenter: 'dc-2', rack: 'ra-1' })).toEqual(['cassandra.hostNetwork', 'cassandra.multiRegionSeedHost', 'cassandra.datacenter', 'cassandra.rack'])
    expect(Overrides.parse(o.toString(), 'y.yaml').cassandra).toMatchObject({ hostNetwork: true, multiRegionSeedHost: '1.2.3.4', datacenter: 'dc-2' })
    expect(o.toString()).toContain('# only a comment')
  })
  it('removes the seed host (finalize), keeping the rest', () => {
    const o = Overrides.parse(SOURCE, 'x.yaml')
    o.setSeed({ seedHosts: ['10.0.0.4'], datacenter: 'dc-2', rack: 'ra-1' })
    const withSeed = Overrides.parse(o.toString(), 'x.yaml')
    expect(withSeed.removeSeed()).toBe(true)
    expect(withSeed.removeSeed()).toBe(false)
    expect(withSeed.toString()).not.toContain('multiRegionSeedHost')
    expect(withSeed.toString()).toContain('# AKS runs pods in island mode')
  })
  it("sets the new region's k8sCluster keeping the comments, and names a clash with another region's", () => {
    const src = Overrides.parse(SOURCE, 'overrides-eastus.yaml')
    const copy = Overrides.parse(SOURCE.replace('  name: aks-eastus', '  name: aks-eastus # the AKS cluster'), 'overrides-westeurope.yaml')
    expect(copy.k8sCluster).toEqual({ name: 'aks-eastus', region: 'eastus' })
    expect(k8sClusterClash(copy, [src], 'the fix')?.describe()).toBe(
      "overrides overrides-westeurope.yaml: k8sCluster (name 'aks-eastus', region 'eastus') equals the k8sCluster of overrides-eastus.yaml: the new cluster would register as that region's\n  fix: the fix"
    )
    expect(copy.setK8sCluster({ name: 'aks-westeurope', region: 'westeurope' })).toEqual(['k8sCluster.name', 'k8sCluster.region'])
    expect(copy.setK8sCluster({ name: 'aks-westeurope' })).toEqual([])
    expect(copy.toString()).toContain('  name: aks-westeurope # the AKS cluster\n  region: westeurope\n')
    expect(copy.toString()).toContain('# unique per installation')
    expect(k8sClusterClash(copy, [src], 'the fix')).toBeUndefined()
    // same name in another region is another cluster
    expect(k8sClusterClash(Overrides.parse('k8sCluster:\n  name: aks-eastus\n  region: westus\n', 'w.yaml'), [src], 'x')).toBeUndefined()
    // a file without the block gets one
    const bare = Overrides.parse('instanceID: x\n', 'b.yaml')
    expect(bare.setK8sCluster({ name: 'aks-b', region: 'westus' })).toEqual(['k8sCluster.name', 'k8sCluster.region'])
    expect(Overrides.parse(bare.toString(), 'b.yaml').k8sCluster).toEqual({ name: 'aks-b', region: 'westus' })
  })
  it('fails clearly on malformed files', () => {
    expect(() => Overrides.parse('cassandra:\n  hostNetwork: true\n bad: [', 'o.yaml')).toThrow(/overrides file o.yaml is not valid YAML at line \d+/)
    expect(() => Overrides.parse('- a\n- b\n', 'o.yaml')).toThrow(/must be a YAML mapping/)
    expect(() => Overrides.parse('cassandra: yes\n', 'o.yaml')).toThrow(/'cassandra' must be a mapping/)
    expect(() => Overrides.parse('cassandra:\n  hostNetwork: maybe\n', 'o.yaml').cassandra).toThrow(/hostNetwork is 'maybe'/)
  })
})
