// The root preflight's online checks through its bundle, as the runner runs it, against one
// sandbox world (real Cassandra 5.0 behind the Kubernetes API double, real kubectl / nodetool /
// cqlsh) and the ARM double (real @azure/arm-network, GitHub OIDC -> Entra federation). A healthy
// world passes with what was read in the plan; broken states (overlapping real VNet ranges plus a
// stale peering, an unreachable context, a source node down) fail naming the object and the fix.
// One world for the whole file, on its own run dir and 127.23.x.x, under /tmp/sandbox.lock.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import YAML from 'yaml'
import { startArmDouble, type ArmDouble } from '../../../sandbox/arm/server.ts'
import { runAction, ROOT, type StepResult } from '../../../sandbox/runner.ts'
import { down, up, type WorldClient } from '../../../sandbox/world-client.ts'
import { ensureBundles, haveSandbox, lockSandbox, visible } from '../expand-keyspaces/harness.ts'

const d = haveSandbox() ? describe : describe.skip
if (!haveSandbox()) it('sandbox tools are installed (npm run setup)', () => expect(haveSandbox()).toBe(true))

const S1 = '11111111-1111-4111-8111-111111111111'
const S2 = '22222222-2222-4222-8222-222222222222'
const SOURCE = 'eastus'
const TARGET = 'westeurope'

const errorText = (stdout: string): string =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('::error::'))
    .map((l) => l.slice('::error::'.length).replace(/%0A/g, '\n').replace(/%25/g, '%'))
    .join('\n')

d('preflight online checks on a sandbox world', () => {
  let release: () => void = () => {}
  let world: WorldClient
  let arm: ArmDouble
  let tmp: string
  let runDir: string
  let secrets: string[] = []

  interface TopoEdit {
    targetKubeconfig?: string
    addressSpaces?: Record<string, string>
  }
  const topology = (e: TopoEdit = {}): string => {
    const st = world.state
    const regions: Record<string, unknown> = {}
    for (const r of st.regions) {
      const sub = r.name === SOURCE ? S1 : S2
      regions[r.name] = {
        azure: { subscription: sub, resourceGroup: `rg-${r.name}`, vnet: `vnet-${r.name}`, addressSpace: (e.addressSpaces ?? { [SOURCE]: '10.1.0.0/16', [TARGET]: '10.2.0.0/16' })[r.name] },
        kube: { context: r.context, kubeconfig: r.name === TARGET && e.targetKubeconfig ? e.targetKubeconfig : st.kubeconfig, namespace: st.namespace },
        cassandra: { datacenter: r.datacenter, rack: r.rack, overrides: r.overrides },
        ingress: { url: 'http://127.0.0.1:1/hello', body: `region: ${r.name}` }
      }
    }
    const doc = {
      azure: { endpoint: arm.url, authorityHost: arm.url, ca: arm.caFile },
      cassandra: { namespace: st.namespace, clusterName: st.clusterName, credentialsSecret: 'apigee-datastore-default-creds' },
      regions
    }
    const path = join(tmp, `topology-${Math.random().toString(36).slice(2)}.yml`)
    writeFileSync(path, YAML.stringify(doc))
    return path
  }
  const preflight = (topo: string): Promise<StepResult> =>
    runAction(
      'preflight',
      { topology: topo, 'source-region': SOURCE, 'target-region': TARGET, 'client-id': arm.clientId, 'tenant-id': arm.tenantId, 'skip-stages': 'verify' },
      { env: { ...arm.runnerEnv(), PATH: `${join(ROOT, '.cache', 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}` }, cwd: tmp, jobDir: tmp }
    )
  const noSecrets = (r: StepResult): void => {
    // ::add-mask:: lines are the runner's masking commands (consumed, never shown): not a leak
    const seen = `${visible(r.stdout)}\n${visible(r.stderr)}\n${r.summary}\n${JSON.stringify(r.outputs)}`
    for (const s of secrets) expect(seen.includes(s)).toBe(false)
  }

  beforeAll(async () => {
    ensureBundles(['preflight'])
    release = await lockSandbox()
    tmp = mkdtempSync(join(tmpdir(), 'mr-preflight-online-'))
    runDir = join(tmp, 'run')
    arm = await startArmDouble({ tlsDir: join(tmp, 'arm-tls') })
    for (const [region, sub, prefix] of [[SOURCE, S1, '10.1.0.0/16'], [TARGET, S2, '10.2.0.0/16']]) {
      arm.world.addVnet({ subscription: sub, resourceGroup: `rg-${region}`, name: `vnet-${region}`, location: region, addressPrefixes: [prefix] })
    }
    const started = await up({ runDir, addressBase: 23, rowsPerTable: 10, target: { name: TARGET, context: `aks-${TARGET}` }, log: () => {} })
    world = started.client
    const c = world.cassandra.credentials()
    secrets = [c.jmxPassword, c.ddlPassword]
  }, 600_000)

  afterAll(async () => {
    try {
      if (runDir) await down(runDir)
      await arm?.close()
      if (tmp) rmSync(tmp, { recursive: true, force: true })
    } finally {
      release()
    }
  }, 120_000)

  it('passes on a healthy world and puts what it read into the plan and the summary', async () => {
    const r = await preflight(topology())
    expect(errorText(r.stdout)).toBe('')
    expect(r.code).toBe(0)
    const plan = JSON.parse(r.outputs.plan)
    const src = world.region('source')
    expect(plan.online.kube).toEqual([
      { region: SOURCE, context: `aks-${SOURCE}`, reachable: true },
      { region: TARGET, context: `aks-${TARGET}`, reachable: true }
    ])
    expect(plan.online.azure.source).toMatchObject({ addressPrefixes: ['10.1.0.0/16'], peering: { name: `vnet-${SOURCE}-to-vnet-${TARGET}`, exists: false, action: 'create' } })
    expect(plan.online.azure.target.id).toMatch(new RegExp(`/subscriptions/${S2}/resourceGroups/rg-${TARGET}/providers/Microsoft.Network/virtualNetworks/vnet-${TARGET}$`))
    const c = plan.online.cassandra
    expect(c.datacenters).toEqual({ 'dc-1': { nodes: 2, up: 2 } })
    expect(c.schemaVersions).toHaveLength(1)
    expect(c.targetDcNodes).toEqual([])
    expect(c.pods.map((p: { name: string; ready: boolean }) => [p.name, p.ready])).toEqual(src.pods.map((p) => [p.name, true]))
    // the seed configure-seed-host would pick: the first ready UN pod, at its node IP (hostNetwork)
    expect(c.seeds).toEqual([{ pod: src.pods[0].name, ip: src.pods[0].address, rack: 'ra-1' }])
    // the keyspace plan: the application keyspaces gain dc-2, RF as in dc-1 capped at the new
    // region's replicaCount (1 in the world's overrides-westeurope.yaml); system_schema is skipped
    const perses = c.keyspaces.items.find((i: { keyspace: string }) => i.keyspace === 'perses')
    expect(perses).toMatchObject({ action: 'alter', before: 'dc-1:2', after: 'dc-1:2, dc-2:1' })
    expect(c.keyspaces.targetNodes).toBe(1)
    expect(c.keyspaces.items.find((i: { keyspace: string }) => i.keyspace === 'system_schema')?.action).toBe('skip')
    expect(c.keyspaces.alter).toBeGreaterThanOrEqual(6)
    // read-only: no ARM write
    expect(arm.writes()).toEqual([])
    expect(r.summary).toContain('```mermaid')
    expect(r.summary).toMatch(/dc-1 \/ ra-1<br\/>2\/2 nodes UN/)
    expect(r.summary).toContain('VNet peering: not peered yet / not peered yet')
    expect(r.summary).toMatch(/\| perses \| alter \|/)
    expect(r.summary).toContain(`${src.pods[0].name} ${src.pods[0].address} (ra-1)`)
    noSecrets(r)
  }, 180_000)

  it('reports overlapping real VNet ranges, a range the topology got wrong and a stale peering, together', async () => {
    const west = arm.world.vnets.get(`/subscriptions/${S2}/resourceGroups/rg-${TARGET}/providers/Microsoft.Network/virtualNetworks/vnet-${TARGET}`.toLowerCase())!
    const east = arm.world.vnets.get(`/subscriptions/${S1}/resourceGroups/rg-${SOURCE}/providers/Microsoft.Network/virtualNetworks/vnet-${SOURCE}`.toLowerCase())!
    const old = arm.world.addVnet({ subscription: S1, resourceGroup: `rg-${SOURCE}`, name: 'vnet-old', addressPrefixes: ['172.16.0.0/16'] })
    west.addressPrefixes = ['10.1.128.0/17']
    const stale = arm.world.seedPeering(east, `vnet-${SOURCE}-to-vnet-${TARGET}`, old.id)
    try {
      const r = await preflight(topology())
      expect(r.code).toBe(1)
      const e = errorText(r.stdout)
      expect(e).toContain(`address spaces overlap: vnet-${SOURCE} (10.1.0.0/16) and vnet-${TARGET} (10.1.128.0/17): 10.1.0.0/16 overlaps 10.1.128.0/17`)
      expect(e).toContain('fix: peered VNets need disjoint address spaces')
      expect(e).toMatch(new RegExp(`regions\\.${TARGET}\\.azure\\.addressSpace is 10\\.2\\.0\\.0/16 but virtual network vnet-${TARGET} has 10\\.1\\.128\\.0/17\\n\\s+fix: set regions\\.${TARGET}\\.azure\\.addressSpace to 10\\.1\\.128\\.0/17`))
      expect(e).toContain(`peering 'vnet-${SOURCE}-to-vnet-${TARGET}' on vnet-${SOURCE} already exists and points at ${old.id}`)
      expect(r.outputs.plan).toBeUndefined()
      expect(r.summary).toContain('stale peering: refused')
      expect(arm.writes()).toEqual([])
    } finally {
      west.addressPrefixes = ['10.2.0.0/16']
      east.peerings.delete(stale.name)
    }
  }, 180_000)

  it('reports a kube context whose API is unreachable, and still checks the rest', async () => {
    const kc = YAML.parse(readFileSync(world.state.kubeconfig, 'utf8')) as { contexts: { name: string; context: { cluster: string } }[]; clusters: { name: string; cluster: { server: string } }[] }
    const cluster = kc.contexts.find((c) => c.name === `aks-${TARGET}`)!.context.cluster
    kc.clusters.find((c) => c.name === cluster)!.cluster.server = 'https://127.0.0.1:1'
    const broken = join(tmp, 'kubeconfig-dead-target')
    writeFileSync(broken, YAML.stringify(kc), { mode: 0o600 })
    const r = await preflight(topology({ targetKubeconfig: broken }))
    expect(r.code).toBe(1)
    const e = errorText(r.stdout)
    expect(e).toMatch(new RegExp(`cannot reach the Kubernetes API of region ${TARGET} \\(context aks-${TARGET}\\): .*127\\.0\\.0\\.1:1.*\\n\\s+fix: the cluster API of context 'aks-${TARGET}' is not reachable from the runner`))
    // only that: the source ring and Azure were read and are fine
    expect(e.split('\n').filter((l) => !/^\s+fix:/.test(l))).toHaveLength(1)
    expect(r.summary).toContain('context UNREACHABLE')
    expect(r.summary).toMatch(/2\/2 nodes UN/)
  }, 180_000)

  // Last: it breaks the world (a node stays down until the world goes down).
  it('reports a source node that is down: its pod not ready and the ring not all UN', async () => {
    const src = world.region('source')
    const victim = src.pods[1]
    await world.cassandra.stop(victim.node, 20_000)
    // wait until gossip on the other node sees it down (the check must not race the failure detector)
    const until = Date.now() + 90_000
    let r: StepResult
    for (;;) {
      r = await preflight(topology())
      if (/not Up\/Normal/.test(errorText(r.stdout)) || Date.now() > until) break
      await new Promise((res) => setTimeout(res, 3000))
    }
    expect(r.code).toBe(1)
    const e = errorText(r.stdout)
    expect(e).toContain(`Cassandra pod apigee/${victim.name} of region ${SOURCE} is not ready`)
    expect(e).toMatch(new RegExp(`ring of region ${SOURCE}: not Up/Normal: ${victim.address.replace(/\./g, '\\.')} \\(dc-1/ra-1, D`))
    expect(e).toContain('fix: every node must be Up/Normal before a new datacenter joins')
    // the keyspaces cannot be read without quorum: reported too, without a password
    expect(e).toMatch(/cqlsh in pod apigee-cassandra-default-0 failed/)
    expect(r.summary).toMatch(/1\/2 nodes UN/)
    noSecrets(r)
  }, 240_000)
})
