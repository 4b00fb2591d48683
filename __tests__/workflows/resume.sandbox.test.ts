// promote-region.yml through the bundles on the sandbox (sandbox/workflow-runner.ts), the two
// ways a promotion is started again: a dry run on a fresh region plans every stage and changes
// nothing; a promotion stopped after its install stage finishes as a NEW run (fresh checkout:
// the overrides file the seed stage wrote is gone), each stage doing only what is left.
// The world judges: the ring, system_schema.keyspaces, the ARM double's peerings, the CA secret.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadWorkflow, runWorkflow, type JobRun } from '../../sandbox/workflow-runner.ts'
import { ROOT } from '../../sandbox/runner.ts'
import { DEFAULT_RUN_DIR } from '../../sandbox/cassandra/cluster.ts'
import { startSandbox, stopSandbox, SERVICE, SOURCE, TARGET, type Sandbox } from '../../scripts/demo/world.ts'
import { rowCounts, seedRowId, seedTables } from '../../sandbox/cassandra/seed.ts'
import { ensureBundles, haveSandbox, lockSandbox, visible } from '../actions/expand-keyspaces/harness.ts'

const d = haveSandbox() ? describe : describe.skip
if (!haveSandbox()) it('sandbox tools are installed (npm run setup)', () => expect(haveSandbox()).toBe(true))

const WF = join(ROOT, '.github/workflows/promote-region.yml')
const RETIRE = join(ROOT, '.github/workflows/decommission-region.yml')
const ACTIONS = ['preflight', 'create-vnet-peering', 'configure-seed-host', 'expand-keyspaces', 'rebuild-dc', 'verify-failover', 'decommission-dc']

d('promote-region: dry run on a fresh region, a new run after the install stage; then decommission-region', () => {
  const runDir = join(DEFAULT_RUN_DIR, '..', 'resume-test')
  const workspace = join(runDir, '..', 'resume-test-workspace')
  let release: () => void = () => {}
  let sb: Sandbox
  let inputs: Record<string, unknown>

  const run = (extra: Record<string, unknown>, only?: string[]): Promise<JobRun[]> => runWorkflow(loadWorkflow(WF), { inputs: { ...inputs, ...extra }, env: sb.env, cwd: sb.workspace, only })
  const results = (runs: JobRun[]): Record<string, string> => Object.fromEntries(runs.map((r) => [r.job.id, r.result]))
  /** The end of what the failed jobs printed ('' when none failed): shown when an expectation on results fails. */
  const failedLog = (runs: JobRun[]): string =>
    runs
      .filter((r) => r.result === 'failure')
      .map((r) => `${r.job.id}:\n` + visible(r.steps.map((s) => [s.result?.stdout, s.result?.stderr, s.summary].filter(Boolean).join('\n')).join('\n')).slice(-3000))
      .join('\n')
  /** The JSON report of a stage's action (the file its output report-path names). */
  const report = (runs: JobRun[], job: string): { status: string; outputs: Record<string, string> } => {
    const step = runs.find((r) => r.job.id === job)!.steps.find((s) => s.result?.outputs['report-path'])!
    return JSON.parse(readFileSync(step.result!.outputs['report-path'], 'utf8'))
  }
  const ring = async (): Promise<string[]> => {
    const r = await sb.world.cassandra.nodetool('dc-1-0', ['status'])
    return [...r.stdout.matchAll(/^Datacenter: (\S+)/gm)].map((m) => m[1])
  }
  const replication = async (): Promise<Record<string, string>> => {
    const rows = await sb.world.cassandra.selectJson<{ keyspace_name: string; replication: Record<string, string> }>('dc-1-0', 'SELECT keyspace_name, replication FROM system_schema.keyspaces')
    return Object.fromEntries(rows.filter((r) => r.replication.class.endsWith('NetworkTopologyStrategy')).map((r) => [r.keyspace_name, Object.keys(r.replication).filter((k) => k !== 'class').sort().join(',')]))
  }
  /** What finalize's configure-seed-host mode forget step returned (undefined when it was skipped). */
  const forgetStep = (runs: JobRun[]): { outputs: Record<string, string> } | undefined => runs.find((r) => r.job.id === 'finalize')!.steps.find((s) => s.step.id === 'forget')?.result
  const peerings = (): number => [...sb.arm.world.vnets.values()].reduce((n, v) => n + v.peerings.size, 0)
  const nsgRules = (): number => [...sb.arm.world.nsgs.values()].reduce((n, g) => n + g.rules.size, 0)
  const caOfTarget = (): string =>
    execFileSync(join(ROOT, '.cache/bin/kubectl'), ['--context', `aks-${TARGET}`, '-n', 'cert-manager', 'get', 'secret', 'apigee-ca', '-o', 'jsonpath={.data.tls\\.crt}'], { env: { ...process.env, ...sb.env }, encoding: 'utf8' })
  const targetOverrides = (): string => join(sb.workspace, 'overrides', `overrides-${TARGET}.yaml`)

  beforeAll(async () => {
    ensureBundles(ACTIONS)
    release = await lockSandbox()
    sb = await startSandbox({ runDir, workspace, addressBase: 26, rowsPerTable: 20, weights: { [SOURCE]: 50, [TARGET]: 50 }, replicas: 2, log: () => {} })
    const install = `o="$(realpath "$MR_OVERRIDES")" && cd "$MR_SANDBOX_ROOT" && npm run --silent sandbox -- install-region ${TARGET} --overrides "$o"`
    inputs = {
      topology: '.github/mr-topology.yml',
      'source-region': SOURCE,
      'target-region': TARGET,
      'install-command': install,
      'reapply-command': install,
      'expected-weights': `${SOURCE}=50,${TARGET}=50`,
      'fault-duration': '3s',
      'target-instance-id': `sandbox-${TARGET}`,
      'replace-ca': true,
      'azure-client-id': sb.arm.clientId,
      'azure-tenant-id': sb.arm.tenantId
    }
  }, 3_600_000) // includes waiting for the sandbox lock

  afterAll(async () => {
    if (sb) await stopSandbox({ arm: sb.arm, runDir })
    rmSync(workspace, { recursive: true, force: true })
    release()
  }, 300_000)

  test('a dry run of the whole promotion on a fresh region plans every stage and changes nothing', async () => {
    const before = { ring: await ring(), replication: await replication(), peerings: peerings(), ca: caOfTarget() }
    const runs = await run({ 'dry-run': true })
    expect(results(runs)).toEqual({ preflight: 'success', network: 'success', seed: 'success', install: 'success', expand: 'success', rebuild: 'success', finalize: 'success', verify: 'success' })
    for (const job of ['network', 'seed', 'expand', 'rebuild', 'finalize', 'verify']) expect([job, report(runs, job).status]).toEqual([job, 'planned'])
    // expand planned the ALTERs it will run once dc-2 is installed; rebuild planned dc-2's nodes
    expect(Number(runs.find((r) => r.job.id === 'expand')!.steps.find((s) => s.result)!.result!.summary.match(/(\d+) ALTER KEYSPACE/)?.[1])).toBeGreaterThan(0)
    expect(report(runs, 'rebuild')).toMatchObject({ outputs: { 'rebuilt-nodes': '' } })
    expect({ ring: await ring(), replication: await replication(), peerings: peerings(), ca: caOfTarget() }).toEqual(before)
    expect(existsSync(targetOverrides())).toBe(false)
    expect(sb.world.state.regions.find((r) => r.name === TARGET)!.installed).toBe(false)
  }, 900_000)

  test('a promotion stopped after install finishes as a new run, each stage doing only what is left', async () => {
    const first = await run({}, ['preflight', 'network', 'seed', 'install'])
    expect(results(first)).toMatchObject({ preflight: 'success', network: 'success', seed: 'success', install: 'success', expand: 'skipped' })
    expect(await ring()).toEqual(['dc-1', 'dc-2'])
    const expandedBefore = await replication()
    // a new run checks the repository out afresh: the file the seed stage wrote is not there
    rmSync(targetOverrides())
    const second = await run({})
    expect(results(second)).toEqual({ preflight: 'success', network: 'success', seed: 'success', install: 'success', expand: 'success', rebuild: 'success', finalize: 'success', verify: 'success' })
    expect(report(second, 'network').status).toBe('unchanged')
    expect(report(second, 'verify').outputs.verdict).toBe('pass')
    const after = await replication()
    for (const [ks, dcs] of Object.entries(expandedBefore)) expect([ks, after[ks]]).toEqual([ks, dcs.includes('dc-1') ? 'dc-1,dc-2' : dcs])
    expect(report(second, 'rebuild').outputs['rebuilt-nodes'].split(',').filter(Boolean).length).toBeGreaterThan(0)
    expect(readFileSync(targetOverrides(), 'utf8')).not.toMatch(/multiRegionSeedHost/)
    // and a third run finds nothing left to do in the stages that change the ring (install is
    // in the list because expand needs it)
    const third = await run({}, ['preflight', 'network', 'seed', 'install', 'expand', 'rebuild'])
    expect(results(third)).toMatchObject({ preflight: 'success', network: 'success', seed: 'success', install: 'success', expand: 'success', rebuild: 'success' })
    expect(report(third, 'expand').status).toBe('unchanged')
    expect(report(third, 'rebuild').outputs['rebuilt-nodes']).toBe('')
  }, 1_800_000)
  test('decommission-region retires the promoted region: rows intact, no trace of dc-2, traffic all in eastus; a re-run changes nothing', async () => {
    // the region is promoted (the test above): dc-2 in the ring, peered, rules open
    expect(await ring()).toEqual(['dc-1', 'dc-2'])
    const rulesBefore = nsgRules()
    expect(peerings()).toBe(2)
    expect(rulesBefore).toBeGreaterThan(0)
    const counts = await rowCounts(sb.world.cassandra, 'dc-1-0', sb.world.state.org)
    // a sample of keys, read back at LOCAL_ONE from each node of the remaining DC afterwards
    const sample = seedTables(sb.world.state.org).map((t) => ({ t, id: seedRowId(t, 7) }))
    const readSample = async (node: string): Promise<number> => {
      let found = 0
      for (const { t, id } of sample) found += (await sb.world.cassandra.selectJson(node, `SELECT JSON id FROM ${t.keyspace}.${t.table} WHERE id = '${id}'`, { consistency: 'LOCAL_ONE' })).length
      return found
    }
    expect(await readSample('dc-1-0')).toBe(sample.length)
    // a team that lists every region's seeds in each region's overrides: eastus names westeurope's nodes
    const dc2 = [...(await sb.world.cassandra.nodetool('dc-1-0', ['status'])).stdout.split(/^Datacenter: /m).find((b) => b.startsWith('dc-2'))!.matchAll(/^U[NL]\s+(\S+)/gm)].map((m) => m[1]).sort()
    expect(dc2.length).toBeGreaterThan(0)
    const eastOverrides = join(sb.workspace, 'overrides', `overrides-${SOURCE}.yaml`)
    const eastText = readFileSync(eastOverrides, 'utf8')
    writeFileSync(eastOverrides, `${eastText}  multiRegionSeedHost: ${dc2.join(',')}\n`)
    // the caller's drain: the mesh's locality weights to eastus only, in both clusters
    const patch = JSON.stringify({ spec: { trafficPolicy: { loadBalancer: { localityLbSetting: { enabled: true, distribute: [{ from: '*', to: { [`${SOURCE}/*`]: 100 } }] } } } } })
    const drain = [SOURCE, TARGET].map((r) => `kubectl --context aks-${r} -n ${sb.world.state.namespace} patch destinationrule ${SERVICE} --type merge -p '${patch}'`).join(' && ')
    const retire = (): Promise<JobRun[]> =>
      runWorkflow(loadWorkflow(RETIRE), {
        inputs: { topology: '.github/mr-topology.yml', 'source-region': SOURCE, 'target-region': TARGET, 'drain-command': drain, 'drained-weights': `${SOURCE}=100,${TARGET}=0`, 'decommission-timeout': '10m', 'azure-client-id': sb.arm.clientId, 'azure-tenant-id': sb.arm.tenantId },
        env: sb.env,
        cwd: sb.workspace
      })
    const first = await retire()
    const allPass = { preflight: 'success', drain: 'success', 'replicate-away': 'success', decommission: 'success', network: 'success', finalize: 'success' }
    expect({ results: results(first), failed: failedLog(first) }).toEqual({ results: allPass, failed: '' })
    expect(report(first, 'drain').outputs.verdict).toBe('pass')
    // the world: no node of dc-2 in the ring, no keyspace names dc-2, no peering, none of our rules
    expect(await ring()).toEqual(['dc-1'])
    const rows = await sb.world.cassandra.selectJson<{ keyspace_name: string; replication: Record<string, string> }>('dc-1-0', 'SELECT keyspace_name, replication FROM system_schema.keyspaces')
    expect(rows.filter((r) => 'dc-2' in r.replication).map((r) => r.keyspace_name)).toEqual([])
    expect({ peerings: peerings(), rules: nsgRules() }).toEqual({ peerings: 0, rules: 0 })
    // finalize forgot the retired addresses the decommission stage read: eastus's overrides as before
    expect(first.find((r) => r.job.id === 'decommission')!.outputs.addresses.split(',').sort()).toEqual(dc2)
    expect(forgetStep(first)?.outputs.changes).toBe('1')
    // (the yaml Document API keeps every comment, with one space before an inline one)
    const spaced = (t: string): string => t.replace(/[ \t]+#/g, ' #')
    expect(spaced(readFileSync(eastOverrides, 'utf8'))).toBe(spaced(eastText))
    // every row seeded before is still there at LOCAL_ONE in dc-1, on each of its nodes
    expect(await rowCounts(sb.world.cassandra, 'dc-1-0', sb.world.state.org)).toEqual(counts)
    expect(await rowCounts(sb.world.cassandra, 'dc-1-1', sb.world.state.org)).toEqual(counts)
    expect([await readSample('dc-1-0'), await readSample('dc-1-1')]).toEqual([sample.length, sample.length])
    // a re-run of the whole workflow finds nothing left to do
    const second = await retire()
    expect({ results: results(second), failed: failedLog(second) }).toEqual({ results: allPass, failed: '' })
    for (const job of ['replicate-away', 'decommission', 'network', 'finalize']) expect([job, report(second, job).status]).toEqual([job, 'unchanged'])
    // the nodes left, yet gossip still names them: the re-run checks the seed lists again, nothing to drop
    expect(forgetStep(second)?.outputs).toMatchObject({ changes: '0', 'changed-overrides': '' })
    expect(report(second, 'drain').outputs.verdict).toBe('pass')
  }, 1_200_000)
})
