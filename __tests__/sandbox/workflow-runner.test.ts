import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { condition, interpolate, loadWorkflow, localAction, runWorkflow, type Contexts } from '../../sandbox/workflow-runner.ts'

const ctx = (over: Partial<Contexts> = {}): Contexts => ({
  inputs: { 'dry-run': false, region: 'westeurope', empty: '' },
  needs: { seed: { result: 'success', outputs: { 'seed-hosts': '127.0.1.1' } } },
  steps: {},
  env: {},
  github: {},
  vars: {},
  secrets: {},
  runner: {},
  job: {},
  matrix: {},
  ...over
})

describe('expressions', () => {
  it('interpolates contexts with hyphenated names', () => {
    expect(interpolate("seed=${{ needs.seed.outputs['seed-hosts'] }} in ${{ inputs.region }}", ctx())).toBe('seed=127.0.1.1 in westeurope')
    expect(interpolate("${{ inputs.empty || 'default' }}", ctx())).toBe('default')
  })
  it('implies success() unless a status function is used', () => {
    expect(condition("inputs.region == 'westeurope'", ctx(), 'success')).toBe(true)
    expect(condition("inputs.region == 'westeurope'", ctx(), 'failure')).toBe(false)
    expect(condition('${{ always() }}', ctx(), 'failure')).toBe(true)
    expect(condition("${{ inputs.empty != '' }}", ctx(), 'success')).toBe(false)
    expect(condition("${{ 'false' }}", ctx(), 'success')).toBe(true) // a non-empty string is truthy, as on GitHub
  })
  it('maps our action references to local actions', () => {
    expect(localAction('org/mr-actions/actions/rebuild-dc@v1')).toBe('rebuild-dc')
    expect(localAction('org/mr-actions@v1')).toBe('preflight')
    expect(localAction('./actions/expand-keyspaces')).toBe('expand-keyspaces')
    expect(localAction('org/mr-actions/actions/internal/failover-issue@v1')).toBe('internal/failover-issue')
    expect(localAction('actions/checkout@v4')).toBeUndefined()
  })
})

describe('runWorkflow', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wf-'))
  const path = join(dir, 'wf.yml')
  writeFileSync(
    path,
    `on:
  workflow_call:
    inputs:
      who: { type: string, default: world }
      skip-b: { type: boolean, default: false }
jobs:
  c:
    needs: [a, b]
    if: \${{ always() }}
    runs-on: ubuntu-latest
    steps:
      - run: echo "c saw \${{ needs.a.outputs.greeting }} and b=\${{ needs.b.result }}" > ${dir}/c.txt
  a:
    runs-on: ubuntu-latest
    outputs:
      greeting: \${{ steps.hello.outputs.text }}
    steps:
      - id: hello
        run: echo "text=hello \${{ inputs.who }}" >> "$GITHUB_OUTPUT"
  b:
    name: b for \${{ inputs.who }}
    needs: a
    if: \${{ !inputs.skip-b }}
    runs-on: ubuntu-latest
    steps:
      - run: exit 3
`
  )
  it('orders jobs by needs and propagates results', async () => {
    const wf = loadWorkflow(path)
    expect(wf.jobs.map((j) => j.id)).toEqual(['a', 'b', 'c'])
    const runs = await runWorkflow(wf, { inputs: { who: 'sandbox' } })
    expect(runs.map((r) => [r.job.id, r.result])).toEqual([
      ['a', 'success'],
      ['b', 'failure'],
      ['c', 'success']
    ])
    expect(readFileSync(join(dir, 'c.txt'), 'utf8').trim()).toBe('c saw hello sandbox and b=failure')
    expect(runs[1].job.name).toBe('b for sandbox')
  })
  it('skips a job whose if is false', async () => {
    const runs = await runWorkflow(loadWorkflow(path), { inputs: { 'skip-b': true } })
    expect(runs.find((r) => r.job.id === 'b')!.result).toBe('skipped')
  })
})
