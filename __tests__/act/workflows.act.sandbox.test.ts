// The workflows under act (a real workflow runner, not ours) on the host, against one sandbox
// world: a caller repository with the topology calls promote-region.yml@v1 (artifacts carry the
// overrides file and the stage reports between jobs), runs dr-drill.yml (one action by path)
// to the end and once cancelled in the middle of its fault, and calls failover-test.yml@v1 from a
// scheduled workflow. Judged by what the world shows (ring, keyspaces, replicas, the GitHub
// double's issues), the callers' outputs and the uploaded reports, never by act's wording.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { ACT, artifactFiles, artifactJson, exportRepo, haveAct, runAct, type ActRun } from '../../sandbox/act.ts'
import { ROOT } from '../../sandbox/runner.ts'
import { DEFAULT_RUN_DIR } from '../../sandbox/cassandra/cluster.ts'
import { INSTALL_COMMAND, SERVICE, SOURCE, TARGET, startSandbox, stopSandbox, type Sandbox } from '../../scripts/demo/world.ts'
import { rowCounts, seedRowId, seedTables } from '../../sandbox/cassandra/seed.ts'
import { ensureBundles, haveSandbox, lockSandbox } from '../actions/expand-keyspaces/harness.ts'
import { GitHubDouble } from '../actions/failover-issue/github-double.ts'

const ready = haveSandbox() && haveAct()
const d = ready ? describe : describe.skip
if (!ready) it(`act and the sandbox tools are installed (npm run setup: ${ACT}, scripts/setup.d/act.sh)`, () => expect(ready).toBe(true))

const WEIGHTS = `${SOURCE}=50,${TARGET}=50`

d('the workflows under act, on the sandbox', () => {
  const runDir = join(DEFAULT_RUN_DIR, '..', 'act-test')
  const workspace = join(runDir, '..', 'act-test-caller')
  // outside the repository: jest would see the export's package.json as a second package
  const lib = join(tmpdir(), 'mr-act-test-mr-actions')
  let release: () => void = () => {}
  let sb: Sandbox
  let env: Record<string, string>
  const gh = new GitHubDouble('ghs_act_test_token_0123456789')

  /** A caller workflow: one job that calls `uses` with `with`, and one that saves its outputs to $MR_RESULTS/outputs.json. */
  const caller = (file: string, on: string, uses: string, withLines: string[]): string => {
    mkdirSync(join(workspace, '.github/workflows'), { recursive: true })
    const yaml = `name: ${file.replace(/\.yml$/, '')}
on: ${on}
jobs:
  call:
    uses: ${uses}
    with:
${withLines.map((l) => `      ${l}`).join('\n')}
    secrets: inherit
  outputs:
    needs: call
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: printf '%s' "$OUT" > "$MR_RESULTS/outputs.json"
        env:
          OUT: \${{ toJSON(needs.call.outputs) }}
`
    writeFileSync(join(workspace, '.github/workflows', file), yaml)
    return `.github/workflows/${file}`
  }
  const act = (workflow: string, o: Partial<Parameters<typeof runAct>[0]> = {}): Promise<ActRun> =>
    runAct({ workdir: workspace, workflow, event: 'workflow_dispatch', env, repositories: { 'org/mr-actions@v1': lib }, ...o })
  const report = artifactJson
  const replicas = async (): Promise<Record<string, { spec: number; annotation?: string }>> => {
    const out: Record<string, { spec: number; annotation?: string }> = {}
    for (const r of sb.world.state.regions) {
      const j = JSON.parse(execFileSync(join(ROOT, '.cache/bin/kubectl'), ['--context', r.context, '-n', sb.world.state.namespace, 'get', `deployment/${SERVICE}`, '-o', 'json'], { env: { ...process.env, ...sb.env }, encoding: 'utf8' }))
      out[r.name] = { spec: j.spec.replicas, annotation: j.metadata.annotations?.['mr-actions.io/original-replicas'] }
    }
    return out
  }
  const results = (dir: string): Record<string, string> => JSON.parse(readFileSync(join(dir, 'outputs.json'), 'utf8'))

  beforeAll(async () => {
    ensureBundles(['preflight', 'create-vnet-peering', 'configure-seed-host', 'expand-keyspaces', 'rebuild-dc', 'verify-failover', 'failover-issue', 'decommission-dc'])
    exportRepo(lib)
    release = await lockSandbox()
    rmSync(workspace, { recursive: true, force: true })
    sb = await startSandbox({ runDir, workspace, addressBase: 27, rowsPerTable: 20, weights: { [SOURCE]: 50, [TARGET]: 50 }, replicas: 2, log: () => {} })
    await gh.start()
    env = { ...sb.env, MR_RESULTS: join(runDir, '..', 'act-test-results'), GITHUB_API_URL: gh.url }
    mkdirSync(env.MR_RESULTS, { recursive: true })
  }, 3_600_000) // includes waiting for the sandbox lock

  afterAll(async () => {
    await gh.stop()
    if (sb) await stopSandbox({ arm: sb.arm, runDir })
    release()
  }, 300_000)

  const STAGES = ['preflight', 'network', 'seed', 'install', 'expand', 'rebuild', 'finalize', 'verify']
  /** The promote-region stage a job of act's log belongs to ('call/promote-region/expand (...)' -> expand). */
  const stageOf = (job?: string): string | undefined => job?.match(/\/promote-region\/([a-z]+) /)?.[1]
  const stageResults = (run: ActRun): Record<string, string> => Object.fromEntries(Object.entries(run.jobs).flatMap(([job, r]) => (stageOf(job) ? [[stageOf(job)!, r]] : [])))
  const promoteCaller = (file: string, extra: string[] = []): string => {
    return caller(file, 'workflow_dispatch', 'org/mr-actions/.github/workflows/promote-region.yml@v1', [
      'topology: .github/mr-topology.yml',
      `source-region: ${SOURCE}`,
      `target-region: ${TARGET}`,
      `expected-weights: ${WEIGHTS}`,
      `install-command: '${INSTALL_COMMAND}'`,
      `reapply-command: '${INSTALL_COMMAND}'`,
      `target-instance-id: sandbox-${TARGET}`,
      'replace-ca: true',
      'fault-duration: 3s',
      `azure-client-id: ${sb.azure.clientId}`,
      `azure-tenant-id: ${sb.azure.tenantId}`,
      ...extra
    ])
  }
  /** What a promotion changes, as the world shows it. */
  const worldState = async (): Promise<Record<string, unknown>> => {
    const status = (await sb.world.cassandra.nodetool('dc-1-0', ['status'])).stdout
    const rows = await sb.world.cassandra.selectJson<{ keyspace_name: string; replication: Record<string, string> }>('dc-1-0', 'SELECT keyspace_name, replication FROM system_schema.keyspaces')
    const ca = execFileSync(join(ROOT, '.cache/bin/kubectl'), ['--context', `aks-${TARGET}`, '-n', 'cert-manager', 'get', 'secret', 'apigee-ca', '-o', 'jsonpath={.data.tls\\.crt}'], { env: { ...process.env, ...sb.env }, encoding: 'utf8' })
    return {
      ring: [...status.matchAll(/^Datacenter: (\S+)/gm)].map((m) => m[1]),
      replication: Object.fromEntries(rows.map((r) => [r.keyspace_name, r.replication])),
      peerings: [...sb.arm!.world.vnets.values()].reduce((n, v) => n + v.peerings.size, 0),
      rules: [...sb.arm!.world.nsgs.values()].reduce((n, g) => n + g.rules.size, 0),
      ca,
      installed: sb.world.state.regions.find((r) => r.name === TARGET)!.installed
    }
  }

  test('a dry run of promote-region.yml@v1 on a fresh region plans every stage and changes nothing', async () => {
    const before = await worldState()
    const run = await act(promoteCaller('promote-dry-run.yml', ['dry-run: true']))
    expect({ code: run.code, stages: stageResults(run) }).toEqual({ code: 0, stages: Object.fromEntries(STAGES.map((s) => [s, 'success'])) })
    // later stages say what they would do once the earlier ones have run
    for (const stage of ['network', 'seed', 'expand', 'rebuild', 'finalize', 'verify']) expect([stage, report(run, `mr-report-${TARGET}-${stage}`).status]).toEqual([stage, 'planned'])
    expect(await worldState()).toEqual(before)
    expect(before).toMatchObject({ ring: ['dc-1'], peerings: 0, installed: false })
  }, 1_200_000)

  test('promote-region.yml@v1 interrupted after each stage and started again as a new run finishes; artifacts between jobs, a report per stage', async () => {
    const wf = promoteCaller('promote.yml')
    // run k is cancelled (SIGINT, as Ctrl-C) the moment stage k has succeeded; run k+1 is a new
    // run (a fresh checkout: nothing the earlier run wrote in its workspace is there)
    for (const [k, stage] of STAGES.slice(0, -1).entries()) {
      const run = await act(wf, { cancelWhen: (rec) => rec.jobResult === 'success' && stageOf(rec.job) === stage })
      const done = Object.fromEntries(STAGES.slice(0, k + 1).map((s) => [s, stageResults(run)[s]]))
      expect({ stage, cancelled: run.cancelled, done }).toEqual({ stage, cancelled: true, done: Object.fromEntries(STAGES.slice(0, k + 1).map((s) => [s, 'success'])) })
      // really interrupted: the run stopped before its end. Judged by the last stage's uploaded
      // report, not by act's job results (act reports the jobs a cancel stopped as succeeded).
      const last = artifactFiles(run, `mr-report-${TARGET}-verify`) ? report(run, `mr-report-${TARGET}-verify`).status : 'none'
      expect({ stage, verify: last }).not.toEqual({ stage, verify: 'succeeded' })
    }
    const run = await act(wf)
    expect({ code: run.code, stages: stageResults(run) }).toEqual({ code: 0, stages: Object.fromEntries(STAGES.map((s) => [s, 'success'])) })
    const out = results(env.MR_RESULTS)
    expect(out.verdict).toBe('pass')
    // every node of the new region was rebuilt, in this run or an interrupted one: each holds every seeded row at LOCAL_ONE (below)
    await sb.world.refresh()
    const targetPods = sb.world.region(TARGET).pods.map((p) => p.name).sort()
    expect(targetPods.length).toBeGreaterThan(0)
    expect(out['ca-fingerprint']).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    // one report per stage, uploaded as an artifact; the last run found nothing left in the network stage
    for (const stage of STAGES) {
      expect([stage, report(run, `mr-report-${TARGET}-${stage}`).status]).toEqual([stage, expect.stringMatching(/^(succeeded|unchanged)$/)])
    }
    expect(report(run, `mr-report-${TARGET}-network`).status).toBe('unchanged')
    // the overrides file went seed -> install -> finalize as an artifact; the final one has no seed host
    const final = artifactFiles(run, `mr-overrides-${TARGET}-final`)!
    const text = readFileSync(execFileSync('find', [final, '-name', '*.yaml'], { encoding: 'utf8' }).trim(), 'utf8')
    expect(text).toMatch(/datacenter: dc-2/)
    expect(text).not.toMatch(/multiRegionSeedHost/)
    // the world: dc-2 in the ring, every NetworkTopologyStrategy keyspace replicates there, every seeded row readable in dc-2
    const w = await worldState()
    expect(w).toMatchObject({ ring: ['dc-1', 'dc-2'], peerings: 2, installed: true })
    for (const [ks, r] of Object.entries(w.replication as Record<string, Record<string, string>>).filter(([, r]) => r.class.endsWith('NetworkTopologyStrategy'))) expect([ks, r['dc-2']]).toEqual([ks, expect.any(String)])
    const counts = await rowCounts(sb.world.cassandra, 'dc-1-0', sb.world.state.org)
    const newNodes = sb.world.cassandra.nodes().filter((n) => n.datacenter === 'dc-2').map((n) => n.name)
    expect(newNodes.length).toBe(targetPods.length)
    for (const node of newNodes) expect([node, await rowCounts(sb.world.cassandra, node, sb.world.state.org)]).toEqual([node, counts])
  }, 3_000_000)

  test('dr-drill.yml copied into the caller: the drill fails a region, measures, restores; its report is uploaded', async () => {
    cpSync(join(lib, '.github/workflows/dr-drill.yml'), join(workspace, '.github/workflows/dr-drill.yml'))
    const run = await act('.github/workflows/dr-drill.yml', { inputs: { region: SOURCE, 'fault-mode': 'scale-to-zero', duration: '3s', 'expected-weights': WEIGHTS, topology: '.github/mr-topology.yml' } })
    expect({ code: run.code, jobs: Object.values(run.jobs) }).toEqual({ code: 0, jobs: ['success'] })
    const r = report(run, `mr-report-drill-${SOURCE}`)
    expect(r).toMatchObject({ status: 'succeeded', outputs: { verdict: 'pass' } })
    expect(Number((r.outputs as Record<string, string>)['failover-ms'])).toBeGreaterThanOrEqual(0)
    expect(await replicas()).toEqual({ [SOURCE]: { spec: 2 }, [TARGET]: { spec: 2 } })
  }, 900_000)

  test('a drill cancelled during its fault (act: SIGINT) is restored by the post step', async () => {
    let checked = 0
    const run = await act('.github/workflows/dr-drill.yml', {
      inputs: { region: SOURCE, 'fault-mode': 'scale-to-zero', duration: '5m', 'expected-weights': WEIGHTS, topology: '.github/mr-topology.yml' },
      // cancel once the world shows the fault (the source deployment scaled to 0), looking at most once a second
      cancelWhen: async () => {
        if (Date.now() - checked < 1000) return false
        checked = Date.now()
        return (await replicas())[SOURCE].spec === 0
      }
    })
    expect(run.cancelled).toBe(true)
    expect(run.ms).toBeLessThan(4 * 60_000) // did not sit out the 5 minutes
    expect(await replicas()).toEqual({ [SOURCE]: { spec: 2 }, [TARGET]: { spec: 2 } })
  }, 900_000)

  test('failover-test.yml@v1 from a scheduled caller really tests, and keeps the issue in step', async () => {
    rmSync(join(env.MR_RESULTS, 'outputs.json'), { force: true })
    const wf = caller('failover.yml', "\n  schedule: [{ cron: '17 6 * * 1-5' }]", 'org/mr-actions/.github/workflows/failover-test.yml@v1', [
      'topology: .github/mr-topology.yml',
      `region: ${TARGET}`,
      `expected-weights: ${WEIGHTS}`
    ])
    // an earlier failure left the issue open: a passing test closes it
    const open = gh.seed({ title: 'Scheduled failover test failing', labels: ['failover-test'], body: '<!-- mr-actions:failover-issue key=failover-test -->' })
    const run = await act(wf, { event: 'schedule', secrets: { GITHUB_TOKEN: gh.token } })
    expect({ code: run.code, failed: Object.entries(run.jobs).filter(([, r]) => r !== 'success') }).toEqual({ code: 0, failed: [] })
    const out = results(env.MR_RESULTS)
    expect(out.verdict).toBe('pass')
    expect(report(run, 'mr-report-failover-test-failover-test')).toMatchObject({ status: 'succeeded' })
    expect({ action: out['issue-action'], state: open.state }).toEqual({ action: 'closed', state: 'closed' })
    expect(await replicas()).toEqual({ [SOURCE]: { spec: 2 }, [TARGET]: { spec: 2 } })
  }, 900_000)
  test('decommission-region.yml@v1 retires the promoted region: rows intact, no trace of dc-2, traffic all in eastus; a new run changes nothing', async () => {
    const before = await worldState()
    expect(before).toMatchObject({ ring: ['dc-1', 'dc-2'], peerings: 2 })
    expect(before.rules).toBeGreaterThan(0)
    const counts = await rowCounts(sb.world.cassandra, 'dc-1-0', sb.world.state.org)
    // a sample of keys, read back at LOCAL_ONE from each node of the remaining DC afterwards
    const sample = seedTables(sb.world.state.org).map((t) => ({ t, id: seedRowId(t, 7) }))
    const readSample = async (node: string): Promise<number> => {
      let found = 0
      for (const { t, id } of sample) found += (await sb.world.cassandra.selectJson(node, `SELECT JSON id FROM ${t.keyspace}.${t.table} WHERE id = '${id}'`, { consistency: 'LOCAL_ONE' })).length
      return found
    }
    // a team that lists every region's seeds in each region's overrides: eastus names westeurope's nodes
    const dc2 = [...(await sb.world.cassandra.nodetool('dc-1-0', ['status'])).stdout.split(/^Datacenter: /m).find((b) => b.startsWith('dc-2'))!.matchAll(/^U[NL]\s+(\S+)/gm)].map((m) => m[1]).sort()
    expect(dc2.length).toBeGreaterThan(0)
    const eastOverrides = join(workspace, 'overrides', `overrides-${SOURCE}.yaml`)
    const eastText = readFileSync(eastOverrides, 'utf8')
    writeFileSync(eastOverrides, `${eastText}  multiRegionSeedHost: ${dc2.join(',')}\n`)
    // the caller's drain: the mesh's locality weights to eastus only, in both clusters
    const patch = JSON.stringify({ spec: { trafficPolicy: { loadBalancer: { localityLbSetting: { enabled: true, distribute: [{ from: '*', to: { [`${SOURCE}/*`]: 100 } }] } } } } })
    const drain = [SOURCE, TARGET].map((r) => `kubectl --context aks-${r} -n ${sb.world.state.namespace} patch destinationrule ${SERVICE} --type merge -p '${patch}'`).join(' && ')
    const wf = caller('retire.yml', 'workflow_dispatch', 'org/mr-actions/.github/workflows/decommission-region.yml@v1', [
      'topology: .github/mr-topology.yml',
      `source-region: ${SOURCE}`,
      `target-region: ${TARGET}`,
      `drain-command: ${JSON.stringify(drain)}`,
      `drained-weights: ${SOURCE}=100,${TARGET}=0`,
      'decommission-timeout: 10m',
      `azure-client-id: ${sb.azure.clientId}`,
      `azure-tenant-id: ${sb.azure.tenantId}`
    ])
    const RETIRE = ['preflight', 'drain', 'replicate-away', 'decommission', 'network', 'finalize']
    const retireResults = (run: ActRun): Record<string, string> =>
      Object.fromEntries(Object.entries(run.jobs).flatMap(([job, r]) => {
        const stage = job.match(/\/decommission-region\/([a-z-]+) /)?.[1]
        return stage ? [[stage, r]] : []
      }))
    const allPass = Object.fromEntries(RETIRE.map((s) => [s, 'success']))
    // a rule somebody else made in one of the NSGs: the network stage removes only ours
    const arm = sb.arm!
    const nsg = [...arm.world.nsgs.values()][0]
    const foreign = { name: 'allow-ssh-bastion', protocol: 'Tcp', access: 'Allow', direction: 'Inbound', priority: 4000, sourceAddressPrefix: '10.250.0.0/24', sourcePortRange: '*', destinationAddressPrefix: '*', destinationPortRange: '22', description: 'bastion access', provisioningState: 'Succeeded' as const, etag: arm.world.nextEtag() }
    nsg.rules.set(foreign.name, foreign)
    const first = await act(wf)
    expect({ code: first.code, stages: retireResults(first) }).toEqual({ code: 0, stages: allPass })
    expect(report(first, `mr-report-${TARGET}-retire-drain`)).toMatchObject({ outputs: { verdict: 'pass' } })
    // the world: no node of dc-2 in the ring, no keyspace names dc-2, no peering, none of our rules (the other one untouched)
    const after = await worldState()
    expect(after).toMatchObject({ ring: ['dc-1'], peerings: 0, rules: 1 })
    expect(nsg.rules.get(foreign.name)).toEqual(foreign)
    expect(Object.entries(after.replication as Record<string, Record<string, string>>).filter(([, r]) => 'dc-2' in r).map(([ks]) => ks)).toEqual([])
    // finalize forgot the retired addresses the decommission stage read: eastus's overrides as
    // before, handed back as an artifact (the yaml Document API keeps every comment, with one
    // space before an inline one)
    const out = results(env.MR_RESULTS)
    expect({ addresses: out['retired-addresses'].split(',').sort(), changed: out['overrides-changed'] }).toEqual({ addresses: dc2, changed: '1' })
    const forgot = readFileSync(execFileSync('find', [artifactFiles(first, `mr-overrides-${TARGET}-forget`)!, '-name', `overrides-${SOURCE}.yaml`], { encoding: 'utf8' }).trim(), 'utf8')
    const spaced = (t: string): string => t.replace(/[ \t]+#/g, ' #')
    expect(spaced(forgot)).toBe(spaced(eastText))
    writeFileSync(eastOverrides, forgot) // the team commits it
    // every row seeded before is still there at LOCAL_ONE in dc-1, on each of its nodes
    for (const node of ['dc-1-0', 'dc-1-1']) expect([node, await rowCounts(sb.world.cassandra, node, sb.world.state.org), await readSample(node)]).toEqual([node, counts, sample.length])
    // a new run of the whole workflow finds nothing left to do
    rmSync(join(env.MR_RESULTS, 'outputs.json'), { force: true })
    arm.clearLog()
    const second = await act(wf)
    expect({ code: second.code, stages: retireResults(second) }).toEqual({ code: 0, stages: allPass })
    // judged by the world: the ring, the replication, the network and the CA as the first run left them, no ARM write
    expect({ world: await worldState(), armWrites: arm.writes().map((e) => `${e.method} ${e.path}`) }).toEqual({ world: after, armWrites: [] })
    expect(report(second, `mr-report-${TARGET}-retire-drain`)).toMatchObject({ outputs: { verdict: 'pass' } })
    for (const stage of ['replicate-away', 'decommission', 'network', 'finalize']) expect([stage, report(second, `mr-report-${TARGET}-retire-${stage}`).status]).toEqual([stage, 'unchanged'])
    // the nodes left, yet gossip still names them: the re-run checks the seed lists again, nothing to drop
    expect(results(env.MR_RESULTS)['overrides-changed']).toBe('0')
  }, 1_800_000)
})
