// Three regions on real Cassandra, through the bundles as the runner runs them: dc-51 (eastus,
// the source) and dc-52 (centralus) hold `app`; a third region, dc-53 (westeurope, its own
// cluster), is promoted next to them (configure-seed-host picks seeds from both regions,
// expand-keyspaces gives it its own RF beside the others', rebuild-dc streams the rows), then
// centralus is retired (expand-keyspaces mode remove, decommission-dc, mode remove again for
// system_auth, configure-seed-host mode forget). The world judges: the ring, system_schema,
// the rows read at LOCAL_ONE in each surviving datacenter. One node per datacenter.
// Run under the sandbox lock (taken by the test): the Cassandra addresses are fixed.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runAction, type StepResult } from '../../../sandbox/runner.ts'
import { ensureBundles, haveSandbox, lockSandbox, startMiniWorld, visible, type MiniWorld } from './harness.ts'

const d = haveSandbox() ? describe : describe.skip
if (!haveSandbox()) it('sandbox tools are installed (npm run setup)', () => expect(haveSandbox()).toBe(true))

// DC numbers pick the loopback block (127.0.<n>.x): unique ones avoid other suites' nodes
const [EAST, CENTRAL, WEST] = ['dc-51', 'dc-52', 'dc-53']
const ROWS = 300
const overrides = (region: string, dc: string, seeds?: string): string => `# Apigee hybrid overrides, region ${region}
k8sCluster:
  name: aks-${region}
instanceID: "hybrid-${region}"
cassandra:
  hostNetwork: true
  clusterName: apigeecluster
  datacenter: "${dc}"
  rack: "ra-1"
${seeds ? `  multiRegionSeedHost: ${seeds}\n` : ''}`

d('three regions: promote a third next to two, then retire one of three', () => {
  let w: MiniWorld
  let release: () => void
  let east: string
  let central: string
  let west: string
  let before: { count: number; sample: string[] }

  const kube = (role: 'source' | 'target' | 'third'): Record<string, string> => ({ [`${role === 'source' ? 'source' : 'target'}-context`]: `region-${role}`, [`${role === 'source' ? 'source' : 'target'}-kubeconfig`]: w.kubeconfig })
  const run = async (name: string, inputs: Record<string, string>): Promise<StepResult> => {
    const r = await runAction(name, { ...kube('source'), ...inputs }, { env: w.env, cwd: w.dir })
    if (r.code !== 0) console.log(`${name} failed:\n${visible(r.stdout + r.stderr).slice(-4000)}`)
    return r
  }
  const replication = async (): Promise<Record<string, Record<string, string>>> => {
    const rows = await w.cluster.selectJson<{ keyspace_name: string; replication: Record<string, string> }>(`${EAST}-0`, 'SELECT JSON keyspace_name, replication FROM system_schema.keyspaces')
    return Object.fromEntries(rows.filter((r) => r.replication.class.endsWith('NetworkTopologyStrategy')).map((r) => [r.keyspace_name, r.replication]))
  }
  const ringDcs = async (): Promise<string[]> => [...(await w.cluster.nodetool(`${EAST}-0`, ['status'])).stdout.matchAll(/^Datacenter: (\S+)/gm)].map((m) => m[1])
  const rows = async (node: string): Promise<{ count: number; sample: string[] }> => ({
    count: Number((await w.cluster.selectJson<{ count: number }>(node, 'SELECT JSON count(*) FROM app.t', { consistency: 'LOCAL_ONE' }))[0].count),
    sample: (await w.cluster.selectJson<{ id: number; v: string }>(node, 'SELECT JSON id, v FROM app.t WHERE id IN (1, 50, 123, 299)', { consistency: 'LOCAL_ONE' })).map((r) => `${r.id}=${r.v}`).sort()
  })

  beforeAll(async () => {
    ensureBundles(['configure-seed-host', 'expand-keyspaces', 'rebuild-dc', 'decommission-dc'])
    release = await lockSandbox()
    w = await startMiniWorld({ sourceDc: EAST, targetDc: CENTRAL, thirdDc: WEST, sourceNodes: 1 })
    // centralus, promoted earlier: its node in the ring, its pods and credentials in its cluster,
    // every keyspace replicated to it, rebuilt
    const spec = w.cluster.dcSpecs(CENTRAL, 1, { seeds: [w.cluster.dcSpecs(EAST, 1)[0].address] })
    w.cluster.start(spec)
    await w.cluster.waitUp(spec)
    w.addRegion(w.target, CENTRAL)
    const both = `{'class': 'NetworkTopologyStrategy', '${EAST}': 1, '${CENTRAL}': 1}`
    await w.cluster.cql(`${EAST}-0`, [...['system_auth', 'system_distributed', 'system_traces'].map((k) => `ALTER KEYSPACE ${k} WITH replication = ${both}`), `CREATE KEYSPACE app WITH replication = ${both}`, 'CREATE TABLE app.t (id int PRIMARY KEY, v text)'], { as: 'superuser' })
    for (let i = 0; i < ROWS; i += 100) await w.cluster.cql(`${EAST}-0`, Array.from({ length: 100 }, (_, k) => `INSERT INTO app.t (id, v) VALUES (${i + k}, 'row ${i + k}')`))
    // as its promotion did: rebuilt from dc-51 (system_auth too: its nodes authenticate the roles)
    await w.cluster.nodetool(`${CENTRAL}-0`, ['rebuild', '--', EAST])
    east = join(w.dir, 'overrides-eastus.yaml')
    central = join(w.dir, 'overrides-centralus.yaml')
    west = join(w.dir, 'overrides-westeurope.yaml')
    writeFileSync(east, overrides('eastus', EAST))
    writeFileSync(central, overrides('centralus', CENTRAL))
    before = await rows(`${EAST}-0`)
  }, 3_600_000) // includes waiting for the sandbox lock

  afterAll(async () => {
    await w?.close()
    release?.()
  }, 120_000)

  it('promotes a third region: seeds from both regions, its own RF beside theirs, every row in it after the rebuild', async () => {
    expect(before.count).toBe(ROWS)
    const seed = await run('configure-seed-host', { ...kube('third'), 'existing-overrides': `${east},${central}`, 'target-overrides': west, 'target-datacenter': WEST, 'target-instance-id': 'hybrid-westeurope' })
    expect(seed.code).toBe(0)
    const [eastAddr, centralAddr] = [w.cluster.dcSpecs(EAST, 1)[0].address, w.cluster.dcSpecs(CENTRAL, 1)[0].address]
    expect(seed.outputs['seed-hosts']).toBe(`${eastAddr},${centralAddr}`)
    expect(readFileSync(west, 'utf8')).toContain(`multiRegionSeedHost: ${eastAddr},${centralAddr}`)

    // "install" westeurope from its overrides (both seeds); the credentials secret is the same in every region
    await w.installRegion(west, 1, w.third!)
    const creds = w.source.get('secrets', 'apigee', 'apigee-datastore-default-creds') as unknown as { data: Record<string, string> }
    w.third!.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'apigee-datastore-default-creds', namespace: 'apigee' }, data: creds.data })
    expect(await ringDcs()).toEqual([EAST, CENTRAL, WEST])

    const expand = await run('expand-keyspaces', { 'source-datacenter': EAST, 'target-datacenter': WEST })
    expect(expand.code).toBe(0)
    const repl = await replication()
    for (const ks of ['app', 'system_auth', 'system_distributed', 'system_traces']) expect([ks, repl[ks]]).toEqual([ks, expect.objectContaining({ [EAST]: '1', [CENTRAL]: '1', [WEST]: '1' })])

    const rebuild = await run('rebuild-dc', { ...kube('third'), 'source-datacenter': EAST, 'target-datacenter': WEST, 'poll-interval': '1s', 'state-dir': join(w.dir, 'rebuild-state') })
    expect(rebuild.code).toBe(0)
    expect(rebuild.outputs['rebuilt-nodes']).toBe('apigee-cassandra-default-0')
    expect(await rows(`${WEST}-0`)).toEqual(before)
  }, 1_200_000)

  it('retires one of three (centralus): the ring and every keyspace without dc-52, its seed forgotten, every row in both survivors', async () => {
    const away = await run('expand-keyspaces', { 'source-datacenter': EAST, 'target-datacenter': CENTRAL, mode: 'remove' })
    expect(away.code).toBe(0)
    expect((await replication()).app).toEqual({ class: expect.stringContaining('NetworkTopologyStrategy'), [EAST]: '1', [WEST]: '1' })

    const decom = await run('decommission-dc', { ...kube('target'), 'source-datacenter': EAST, 'target-datacenter': CENTRAL, 'poll-interval': '1s', timeout: '10m' })
    expect(decom.code).toBe(0)
    expect(decom.outputs.removed).toBe('1')
    const centralAddr = w.cluster.dcSpecs(CENTRAL, 1)[0].address
    expect(decom.outputs.addresses).toBe(centralAddr)
    expect(await ringDcs()).toEqual([EAST, WEST])

    const last = await run('expand-keyspaces', { 'source-datacenter': EAST, 'target-datacenter': CENTRAL, mode: 'remove' })
    expect(last.code).toBe(0)
    const repl = await replication()
    expect(Object.entries(repl).filter(([, r]) => CENTRAL in r).map(([ks]) => ks)).toEqual([])
    for (const ks of ['app', 'system_auth']) expect([ks, repl[ks][EAST], repl[ks][WEST]]).toEqual([ks, '1', '1'])

    // westeurope kept its seed list (no finalize yet): the retired address leaves it, eastus's stays
    const forget = await run('configure-seed-host', { mode: 'forget', 'existing-overrides': `${east},${west}`, 'forget-hosts': decom.outputs.addresses })
    expect(forget.code).toBe(0)
    expect(forget.outputs['changed-overrides']).toBe(west)
    expect(readFileSync(west, 'utf8')).toContain(`multiRegionSeedHost: ${w.cluster.dcSpecs(EAST, 1)[0].address}\n`)

    for (const node of [`${EAST}-0`, `${WEST}-0`]) expect([node, await rows(node)]).toEqual([node, before])
  }, 1_200_000)
})
