// The workflows under act without a sandbox world (no lock, seconds each): dr-drill.yml copied
// into a caller as a dry run (one of our actions by path, its report uploaded to act's artifact
// server through the upload-artifact stand-in), and failover-test.yml@v1 called from a scheduled
// workflow whose ingress does not answer: the test job really runs (it is not skipped because
// the event is `schedule`), fails, and the issue job opens the issue on the GitHub double.
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ACT, artifactJson, exportRepo, haveAct, runAct } from '../../sandbox/act.ts'
import { ensureBundles } from '../actions/expand-keyspaces/harness.ts'
import { GitHubDouble } from '../actions/failover-issue/github-double.ts'

const d = haveAct() ? describe : describe.skip
if (!haveAct()) it(`act is installed (npm run setup: ${ACT}, scripts/setup.d/act.sh needs Go)`, () => expect(haveAct()).toBe(true))

const TOPOLOGY = `cassandra: { namespace: apigee }
regions:
  eastus:
    kube: { context: aks-eastus }
    cassandra: { datacenter: dc-1 }
    ingress: { url: 'http://127.0.0.1:9/hello', body: '"region":"eastus"' }
    service: { deployment: helloworld, namespace: apigee }
  westeurope:
    kube: { context: aks-westeurope }
    cassandra: { datacenter: dc-2 }
    ingress: { url: 'http://127.0.0.1:9/hello', header: 'x-region: ^westeurope$' }
    service: { deployment: helloworld, namespace: apigee }
`

d('the workflows under act, offline', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mr-act-offline-'))
  const workspace = join(tmp, 'caller')
  const results = join(tmp, 'results')
  let lib: string
  const gh = new GitHubDouble('ghs_act_offline_token_0123456789')
  const report = artifactJson

  beforeAll(async () => {
    ensureBundles(['verify-failover', 'failover-issue'])
    lib = exportRepo(join(tmp, 'mr-actions'))
    mkdirSync(join(workspace, '.github/workflows'), { recursive: true })
    mkdirSync(results)
    writeFileSync(join(workspace, '.github/mr-topology.yml'), TOPOLOGY)
    await gh.start()
  }, 600_000)
  afterAll(() => gh.stop())

  test('dr-drill.yml, dry run: the drill job plans and uploads its report', async () => {
    cpSync(join(lib, '.github/workflows/dr-drill.yml'), join(workspace, '.github/workflows/dr-drill.yml'))
    const run = await runAct({ workdir: workspace, workflow: '.github/workflows/dr-drill.yml', event: 'workflow_dispatch', inputs: { region: 'eastus', 'expected-weights': 'eastus=50,westeurope=50', 'dry-run': 'true' }, repositories: { 'org/mr-actions@v1': lib } })
    expect({ code: run.code, results: Object.values(run.jobs) }).toEqual({ code: 0, results: ['success'] })
    expect(report(run, 'mr-report-drill-eastus')).toMatchObject({ action: 'verify-failover', status: 'planned' })
  }, 600_000)

  test('failover-test.yml@v1 from a scheduled caller: the test runs and fails, the issue is opened', async () => {
    writeFileSync(
      join(workspace, '.github/workflows/failover.yml'),
      `name: failover
on:
  schedule: [{ cron: '17 6 * * 1-5' }]
jobs:
  call:
    uses: org/mr-actions/.github/workflows/failover-test.yml@v1
    with: { topology: .github/mr-topology.yml, region: westeurope, expected-weights: 'eastus=50,westeurope=50' }
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
    )
    const run = await runAct({ workdir: workspace, workflow: '.github/workflows/failover.yml', event: 'schedule', env: { GITHUB_API_URL: gh.url, MR_RESULTS: results }, secrets: { GITHUB_TOKEN: gh.token }, repositories: { 'org/mr-actions@v1': lib } })
    // the test job ran (a skipped job uploads no report) and failed on the ingress that does not answer
    expect(report(run, 'mr-report-failover-test-failover-test')).toMatchObject({ action: 'verify-failover', status: 'failed' })
    // the issue job ran after the failure and opened one issue (act then stops the caller: its
    // failed reusable-workflow job aborts the caller's other jobs, so no outputs job here)
    expect(Object.entries(run.jobs).filter(([j]) => /issue$/.test(j)).map(([, r]) => r)).toEqual(['success'])
    expect(gh.issues.filter((i) => i.state === 'open').map((i) => i.labels)).toEqual([['failover-test']])
  }, 600_000)
})
