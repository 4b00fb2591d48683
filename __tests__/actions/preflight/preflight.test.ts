// The root preflight, driven through its bundle as the runner does: a good topology yields a
// plan; each broken topology fails with an error naming the field and the fix.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAction } from '../../../sandbox/runner.ts'
import { ensureBundle } from '../../helpers/bundle.ts'

const good = {
  cassandra: { namespace: 'apigee', clusterName: 'apigeecluster' },
  regions: {
    eastus: {
      azure: { subscription: '11111111-2222-3333-4444-555555555555', resourceGroup: 'rg-east', vnet: 'vnet-east', addressSpace: ['120.38.1.0/24'] },
      kube: { context: 'aks-eastus' },
      cassandra: { datacenter: 'dc-1', rack: 'ra-1', overrides: 'overrides-eastus.yaml' },
      ingress: { url: 'http://127.0.0.1:1/hello', body: 'region: eastus' }
    },
    westeurope: {
      azure: { subscription: '11111111-2222-3333-4444-555555555555', resourceGroup: 'rg-west', vnet: 'vnet-west', addressSpace: ['192.138.0.0/24'] },
      kube: { context: 'aks-westeurope' },
      cassandra: { datacenter: 'dc-2', rack: 'ra-1', overrides: 'overrides-westeurope.yaml' },
      ingress: { url: 'http://127.0.0.1:1/hello', body: 'region: westeurope' }
    }
  }
}

type Topo = typeof good
const clone = (): Topo => JSON.parse(JSON.stringify(good))

async function preflight(topo: unknown, inputs: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'preflight-'))
  writeFileSync(join(dir, 'overrides-eastus.yaml'), 'cassandra:\n  hostNetwork: true\n')
  const text = typeof topo === 'string' ? topo : JSON.stringify(topo)
  writeFileSync(join(dir, 'topo.yml'), text)
  return runAction('preflight', { topology: 'topo.yml', 'source-region': 'eastus', 'target-region': 'westeurope', online: 'false', ...inputs }, { cwd: dir, jobDir: dir })
}

describe('preflight', () => {
  beforeAll(() => ensureBundle('preflight'), 300_000)
  it('plans a good promotion and changes nothing', async () => {
    const r = await preflight(good)
    expect(r.code).toBe(0)
    const plan = JSON.parse(r.outputs.plan)
    expect(plan).toMatchObject({ source: 'eastus', target: 'westeurope', sourceDatacenter: 'dc-1', targetDatacenter: 'dc-2' })
    expect(r.summary).toContain('```mermaid')
  })

  // Every row has all four columns: jest.each treats a callback with more parameters than the
  // row has columns as one that takes done().
  const broken: Array<[string, (t: Topo) => unknown, RegExp, Record<string, string>]> = [
    ['unknown target region', (t) => t, /target region 'northeurope' is not in topology.*\n.*fix: add it under regions: or use one of: eastus, westeurope/, { 'target-region': 'northeurope' }],
    ['same source and target', (t) => t, /source and target region are both 'eastus'/, { 'target-region': 'eastus' }],
    ['same datacenter in both regions', (t) => ((t.regions.westeurope.cassandra.datacenter = 'dc-1'), t), /datacenter.*'dc-1' is also the datacenter of region eastus/, {}],
    ['missing datacenter', (t) => (delete (t.regions.westeurope.cassandra as Partial<typeof t.regions.westeurope.cassandra>).datacenter, t), /regions\.westeurope\.cassandra\.datacenter is not set/, {}],
    ['overlapping address spaces', (t) => ((t.regions.westeurope.azure.addressSpace = ['120.38.0.0/16']), t), /address spaces overlap: eastus 120\.38\.1\.0\/24 and westeurope 120\.38\.0\.0\/16/, {}],
    ['malformed subscription', (t) => ((t.regions.eastus.azure.subscription = 'not-a-guid'), t), /regions\.eastus\.azure\.subscription: 'not-a-guid' is not valid\n.*fix: an Azure subscription ID/, {}],
    ['missing kube context', (t) => (delete (t.regions.eastus.kube as Partial<typeof t.regions.eastus.kube>).context, t), /regions\.eastus\.kube\.context is not set/, {}],
    ['missing overrides file', (t) => ((t.regions.eastus.cassandra.overrides = 'nope.yaml'), t), /overrides file nope\.yaml of region eastus does not exist/, {}],
    ['typo in a field name', (t) => (((t.regions.eastus.cassandra as Record<string, unknown>).datacentre = 'dc-1'), t), /regions\.eastus\.cassandra\.datacentre: unknown field/, {}],
    ['bad CIDR', (t) => ((t.regions.eastus.azure.addressSpace = ['120.38.1.0/33']), t), /addressSpace: not CIDR: 120\.38\.1\.0\/33/, {}],
    ['missing vnet with the network stage on', (t) => (delete (t.regions.westeurope.azure as Partial<typeof t.regions.westeurope.azure>).vnet, t), /regions\.westeurope\.azure\.vnet is not set \(needed by the network stage\)/, {}],
    ['bad ingress regex', (t) => ((t.regions.eastus.ingress.body = 'region: (east'), t), /ingress\.body: not a valid regular expression/, {}],
    ['not YAML', () => 'regions: [unclosed', /not valid YAML/, {}]
  ]
  it.each(broken)('refuses a topology with %s', async (_name, breakIt, message, inputs) => {
    const r = await preflight(breakIt(clone()), inputs)
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/::error::/)
    // Annotations escape newlines as %0A: decode before matching.
    expect(r.stdout.replace(/%0A/g, '\n')).toMatch(message)
    expect(r.outputs.plan).toBeUndefined()
  })

  it("refuses a target overrides file whose k8sCluster is the source region's, before any change", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'preflight-'))
    const east = 'k8sCluster:\n  name: aks-eastus\n  region: eastus\ncassandra:\n  hostNetwork: true\n'
    writeFileSync(join(dir, 'overrides-eastus.yaml'), east)
    writeFileSync(join(dir, 'overrides-westeurope.yaml'), `# copied\n${east}`)
    writeFileSync(join(dir, 'topo.yml'), JSON.stringify(good))
    const before = JSON.stringify([readFileSync(join(dir, 'overrides-eastus.yaml'), 'utf8'), readFileSync(join(dir, 'overrides-westeurope.yaml'), 'utf8')])
    const r = await runAction('preflight', { topology: 'topo.yml', 'source-region': 'eastus', 'target-region': 'westeurope', online: 'false' }, { cwd: dir, jobDir: dir })
    expect(r.code).toBe(1)
    const text = r.stdout.replace(/%0A/g, '\n')
    expect(text).toMatch(/overrides overrides-westeurope.yaml: k8sCluster \(name 'aks-eastus', region 'eastus'\) equals the k8sCluster of overrides-eastus.yaml[^\n]*\n\s*fix: set k8sCluster.name and k8sCluster.region of the new cluster in that file/)
    expect(r.outputs.plan).toBeUndefined()
    expect(JSON.stringify([readFileSync(join(dir, 'overrides-eastus.yaml'), 'utf8'), readFileSync(join(dir, 'overrides-westeurope.yaml'), 'utf8')])).toBe(before)
    // the same clash in the topology itself
    const t = clone()
    for (const r of [t.regions.eastus, t.regions.westeurope]) Object.assign(r, { k8sCluster: { name: 'aks-eastus', region: 'eastus' } })
    const r2 = await preflight(t)
    expect(r2.code).toBe(1)
    expect(r2.stdout.replace(/%0A/g, '\n')).toMatch(/regions\.westeurope\.k8sCluster \(name 'aks-eastus', region 'eastus'\) equals regions\.eastus\.k8sCluster/)
  })

  it('lets the network stage be skipped for a topology without Azure fields', async () => {
    const t = clone()
    delete (t.regions.westeurope.azure as Partial<typeof t.regions.westeurope.azure>).vnet
    const r = await preflight(t, { 'skip-stages': 'network' })
    expect(r.code).toBe(0)
  })
})
