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
import { SERVICE, SOURCE, TARGET, startSandbox, stopSandbox, type Sandbox } from '../../scripts/demo/world.ts'
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
    ensureBundles(['preflight', 'create-vnet-peering', 'configure-seed-host', 'expand-keyspaces', 'rebuild-dc', 'verify-failover', 'failover-issue'])
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

  test('promote-region.yml@v1 from a caller: every stage passes, artifacts between jobs, a report per stage', async () => {
    const install = `o="$(realpath "$MR_OVERRIDES")" && cd "$MR_SANDBOX_ROOT" && npm run --silent sandbox -- install-region ${TARGET} --overrides "$o"`
    const wf = caller('promote.yml', 'workflow_dispatch', 'org/mr-actions/.github/workflows/promote-region.yml@v1', [
      'topology: .github/mr-topology.yml',
      `source-region: ${SOURCE}`,
      `target-region: ${TARGET}`,
      `expected-weights: ${WEIGHTS}`,
      `install-command: '${install}'`,
      `reapply-command: '${install}'`,
      `target-instance-id: sandbox-${TARGET}`,
      'replace-ca: true',
      'fault-duration: 3s',
      `azure-client-id: ${sb.arm.clientId}`,
      `azure-tenant-id: ${sb.arm.tenantId}`
    ])
    const run = await act(wf)
    const failed = Object.entries(run.jobs).filter(([, r]) => r !== 'success')
    expect({ code: run.code, failed }).toEqual({ code: 0, failed: [] })
    const out = results(env.MR_RESULTS)
    expect(out.verdict).toBe('pass')
    // every pod of the new region was rebuilt: the world's own list of dc-2's pods
    await sb.world.refresh()
    const targetPods = sb.world.region(TARGET).pods.map((p) => p.name).sort()
    expect(targetPods.length).toBeGreaterThan(0)
    expect(out['rebuilt-nodes'].split(',').filter(Boolean).sort()).toEqual(targetPods)
    expect(out['ca-fingerprint']).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    // one report per stage, uploaded as an artifact
    for (const stage of ['preflight', 'network', 'seed', 'install', 'expand', 'rebuild', 'finalize', 'verify']) {
      expect([stage, report(run, `mr-report-${TARGET}-${stage}`).status]).toEqual([stage, expect.stringMatching(/^(succeeded|unchanged)$/)])
    }
    // the overrides file went seed -> install -> finalize as an artifact; the final one has no seed host
    const final = artifactFiles(run, `mr-overrides-${TARGET}-final`)!
    const text = readFileSync(execFileSync('find', [final, '-name', '*.yaml'], { encoding: 'utf8' }).trim(), 'utf8')
    expect(text).toMatch(/datacenter: dc-2/)
    expect(text).not.toMatch(/multiRegionSeedHost/)
    // the world: dc-2 in the ring, every NetworkTopologyStrategy keyspace replicates there
    const status = (await sb.world.cassandra.nodetool('dc-1-0', ['status'])).stdout
    expect([...status.matchAll(/^Datacenter: (\S+)/gm)].map((m) => m[1])).toEqual(['dc-1', 'dc-2'])
    const rows = await sb.world.cassandra.selectJson<{ keyspace_name: string; replication: Record<string, string> }>('dc-1-0', 'SELECT keyspace_name, replication FROM system_schema.keyspaces')
    for (const r of rows.filter((x) => x.replication.class.endsWith('NetworkTopologyStrategy'))) expect([r.keyspace_name, r.replication['dc-2']]).toEqual([r.keyspace_name, expect.any(String)])
  }, 2_400_000)

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
})
