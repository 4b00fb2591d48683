// The one-command demo end to end (its core, scripts/demo/core.ts): a sandbox world of its own
// (own run dir and node addresses, so it runs beside the other sandbox tests), every stage of
// promote-region.yml and the DR drill through the bundled actions, summaries on disk, teardown.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { loadWorkflow } from '../sandbox/workflow-runner.ts'
import { ROOT } from '../sandbox/runner.ts'
import { readWorldState } from '../sandbox/world-state.ts'
import { DEFAULT_RUN_DIR } from '../sandbox/cassandra/cluster.ts'
import { Demo, type DemoResult } from '../scripts/demo/core.ts'
import { lockSandbox } from './actions/expand-keyspaces/harness.ts'

const gitStatus = (): Set<string> =>
  new Set(
    execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3))
  )

describe('npm run demo (core)', () => {
  const outDir = join(ROOT, 'demo-output', 'test')
  const runDir = join(DEFAULT_RUN_DIR, '..', 'demo-test')
  let result: DemoResult
  let printed = ''
  let before: Set<string>
  let wall = 0
  let release: () => void = () => {}

  // the demo's world runs alone: other suites' Cassandra nodes would slow its Envoy and its drill
  beforeAll(async () => {
    release = await lockSandbox()
    for (const f of ['preflight', 'create-vnet-peering', 'configure-seed-host', 'expand-keyspaces', 'rebuild-dc', 'verify-failover']) {
      if (!existsSync(join(ROOT, 'dist', f, 'index.js'))) throw new Error(`dist/${f}/index.js is missing: run 'npm run build' first`)
    }
    before = gitStatus()
    const t0 = Date.now()
    result = await new Demo({ outDir, runDir, addressBase: 8, faultDuration: '5s', print: (t) => (printed += t + '\n') }).run()
    wall = Date.now() - t0
    process.stdout.write(`demo wall time ${(wall / 1000).toFixed(1)}s: ${JSON.stringify(result.timings)}\n`)
  }, 3_600_000) // includes waiting for the sandbox lock
  afterAll(() => release())

  test('every stage of promote-region.yml, then the drill, in the workflow files order, all succeeded', () => {
    const expected = [
      ...loadWorkflow(join(ROOT, '.github/workflows/promote-region.yml')).jobs.map((j) => `promote-region › ${j.id}`),
      ...loadWorkflow(join(ROOT, '.github/workflows/dr-drill.yml')).jobs.map((j) => `dr-drill › ${j.id}`)
    ]
    expect({ error: result.error, stages: result.stages.map((s) => `${s.title}: ${s.result}`) }).toEqual({ error: undefined, stages: expected.map((t) => `${t}: success`) })
    expect(result.ok).toBe(true)
    // the network stage signed in through OIDC -> Entra -> ARM with the topology's azure: endpoints
    expect(result.stages.find((s) => s.job === 'network')!.outputs['source-peering-id']).toMatch(/virtualNetworks\/vnet-eastus\/virtualNetworkPeerings\//)
  })

  test('each stage has a Markdown summary; one HTML page; the terminal shows aligned tables, no pipe soup', () => {
    for (const s of result.stages) {
      expect(existsSync(s.summaryFile!)).toBe(true)
      expect(statSync(s.summaryFile!).size).toBeGreaterThan(40)
    }
    const html = readFileSync(result.html, 'utf8')
    expect(html).toMatch(/<table>/)
    for (const s of result.stages) expect(html).toContain(`id="${s.workflow}-${s.job}"`)
    expect(readFileSync(join(outDir, 'README.md'), 'utf8')).toMatch(/\| promote-region › verify \| success \|/)
    expect(printed).toMatch(/\[1\/8\] preflight/)
    expect(printed).toMatch(/✔ rebuild success in/)
    expect(printed).not.toMatch(/^\s*│?\s*\|.*\|\s*$/m)
    expect(printed).toMatch(/^ {2}stage\s+result\s+duration$/m)
  })

  test('the promoted region: every seeded row readable at LOCAL_ONE in dc-2, the seed host gone, the comments kept', () => {
    // rebuild-dc's spot check samples keys of every seeded table in dc-1 and finds each at LOCAL_ONE in dc-2
    const rebuild = readFileSync(result.stages.find((st) => st.job === 'rebuild')!.summaryFile!, 'utf8')
    const rows = rebuild.split('\n').filter((l) => /^\| \w+\.\w+ \| \d+ \| \d+ \| /.test(l))
    expect(rows.length).toBe(6)
    for (const r of rows) {
      const [, , sampled, found, , missing, , , verdict] = r.split('|').map((c) => c.trim())
      expect({ r, allFound: sampled === found && Number(sampled) > 0, missing, verdict }).toEqual({ r, allFound: true, missing: '0', verdict: 'ok' })
    }
    const overrides = readFileSync(join(outDir, 'workspace', 'overrides', 'overrides-westeurope.yaml'), 'utf8')
    expect(overrides).not.toMatch(/multiRegionSeedHost/)
    expect(overrides).toMatch(/datacenter: dc-2/)
    expect(overrides).toMatch(/# AKS "island" networking/)
    expect(overrides).toMatch(/clusterName: apigeecluster # the same in every region/)
  })

  test('the drill failed eastus, measured the failover against ground truth, and restored the replicas', () => {
    expect(result.drill).toBeDefined()
    expect(result.drill!.truthMs).toBeDefined()
    expect(result.drill!.measuredMs).toBeGreaterThanOrEqual(0)
    expect(result.afterDrill).toEqual({ eastus: { spec: 2, running: 2, annotation: undefined }, westeurope: { spec: 2, running: 2, annotation: undefined } })
  })

  test('the sandbox is down (no daemon, no state file) and the demo wrote nothing git would see', () => {
    expect(readWorldState(runDir)).toBeUndefined()
    // no daemon, no Cassandra JVM: nothing whose command line names the run dir
    const left = spawnSync('pgrep', ['-af', runDir], { encoding: 'utf8' })
    expect(left.stdout.split('\n').filter((l) => l && !l.includes('pgrep'))).toEqual([])
    // other helpers may change their own files meanwhile: only paths the demo could write count
    const fresh = [...gitStatus()].filter((p) => !before.has(p) && !/^(src|__tests__|docs|bench|dist|actions)\//.test(p))
    expect(fresh).toEqual([])
    execFileSync('git', ['check-ignore', '-q', relative(ROOT, result.html)], { cwd: ROOT })
  })
})
