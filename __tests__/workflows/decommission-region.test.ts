// The decommission workflow's shape: gated stages in order, one environment per stage, the action
// each stage calls with the mode that makes it the reverse step, dry-run reaching every stage; the
// finalize stage also drops the retired addresses from the other regions' seed lists (its `if:`
// conditions evaluated by the sandbox runner's expression evaluator).
import { join } from 'node:path'
import YAML from 'yaml'
import { readFileSync } from 'node:fs'
import { ROOT, ourActionOf } from './validate.ts'
import { condition, interpolate, type Contexts } from '../../sandbox/workflow-runner.ts'

const STAGES: Array<[stage: string, action: string, mode: string]> = [
  ['preflight', 'expand-keyspaces', 'remove'],
  ['drain', 'verify-failover', ''],
  ['replicate-away', 'expand-keyspaces', 'remove'],
  ['decommission', 'decommission-dc', ''],
  ['network', 'create-vnet-peering', 'remove'],
  ['finalize', 'expand-keyspaces', 'remove']
]

type Step = { id?: string; if?: string; uses?: string; run?: string; with?: Record<string, unknown> }
type Job = { needs?: string | string[]; environment?: unknown; outputs?: Record<string, string>; steps: Step[] }
const doc = YAML.parse(readFileSync(join(ROOT, '.github/workflows/decommission-region.yml'), 'utf8'))
const jobs = doc.jobs as Record<string, Job>
const needsOf = (j: Job): string[] => (j.needs === undefined ? [] : Array.isArray(j.needs) ? j.needs : [j.needs])

test('one job per stage, in order, each needing the one before it', () => {
  expect(Object.keys(jobs)).toEqual(STAGES.map(([s]) => s))
  STAGES.forEach(([stage], i) => {
    if (i > 0) expect(needsOf(jobs[stage])).toContain(STAGES[i - 1][0])
  })
})

test.each(STAGES)('%s runs in its environment and calls the stage action of the suite (%s, mode %s; empty = none)', (stage, action, mode) => {
  expect(jobs[stage].environment).toBe(`\${{ inputs.environment-prefix }}-${stage}`)
  const ours = jobs[stage].steps.filter((s) => s.uses && ourActionOf(s.uses))
  // finalize has a second one: configure-seed-host mode forget (below)
  expect(ours.map((s) => s.id)).toEqual(stage === 'finalize' ? ['stage', 'forget'] : ['stage'])
  expect(ourActionOf(ours[0].uses!)).toBe(action)
  if (mode) expect(ours[0].with?.mode).toBe(mode)
})

test('dry-run reaches every stage; the preflight is always a dry run', () => {
  for (const [stage] of STAGES) {
    const w = jobs[stage].steps.find((s) => s.id === 'stage')!.with!
    expect(w['dry-run']).toBe(stage === 'preflight' ? 'true' : '${{ inputs.dry-run }}')
  }
  expect(jobs.finalize.steps.find((s) => s.id === 'forget')!.with!['dry-run']).toBe('${{ inputs.dry-run }}')
})

describe("finalize: the retired addresses leave the other regions' seed lists", () => {
  const steps = jobs.finalize.steps
  const forget = steps.find((s) => s.id === 'forget')!
  const warn = steps.find((s) => s.run?.includes('::warning'))!
  const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact@') && String(s.with?.name).endsWith('-forget'))!
  const ctx = (addresses: string, forgetHosts: string, changed = ''): Contexts => ({
    inputs: { 'forget-hosts': forgetHosts, 'dry-run': false },
    needs: { preflight: { result: 'success', outputs: {} }, decommission: { result: 'success', outputs: { addresses } }, network: { result: 'success', outputs: {} } },
    steps: { stage: { outcome: 'success', conclusion: 'success', outputs: {} }, forget: { outcome: 'success', conclusion: 'success', outputs: { 'changed-overrides': changed } } },
    env: {}, github: {}, vars: {}, secrets: {}, runner: {}, job: {}, matrix: {}
  })

  test('configure-seed-host mode forget, with the addresses the decommission stage read and the caller adds', () => {
    expect(ourActionOf(forget.uses!)).toBe('configure-seed-host')
    expect(forget.with).toMatchObject({ mode: 'forget', 'reapply-command': '${{ inputs.reapply-command }}', 'target-region': '${{ inputs.target-region }}' })
    expect(jobs.decommission.outputs?.addresses).toBe('${{ steps.stage.outputs.addresses }}')
    expect(needsOf(jobs.finalize)).toContain('decommission')
    expect(interpolate(forget.with!['forget-hosts'], ctx('10.2.0.4,10.2.0.5', ''))).toBe('10.2.0.4,10.2.0.5,')
    expect(interpolate(forget.with!['forget-hosts'], ctx('', '10.2.0.9'))).toBe(',10.2.0.9')
    expect(doc.on.workflow_call.outputs['overrides-changed'].value).toBe('${{ jobs.finalize.outputs.overrides-changed }}')
  })

  test('runs when an address is known; otherwise a warning names forget-hosts, and nothing fails', () => {
    const cases: Array<[addresses: string, forgetHosts: string, runs: boolean]> = [
      ['10.2.0.4', '', true],
      ['', '10.2.0.9', true],
      ['10.2.0.4', '10.2.0.9', true],
      ['', '', false]
    ]
    for (const [a, f, runs] of cases) {
      expect([a, f, condition(forget.if, ctx(a, f), 'success'), condition(warn.if, ctx(a, f), 'success')]).toEqual([a, f, runs, !runs])
    }
    expect(warn.run).toContain('forget-hosts')
  })

  test('the files it changed are uploaded (not in a dry run, not when none changed)', () => {
    expect(upload.with).toMatchObject({ path: '${{ steps.forget.outputs.changed-overrides }}' })
    expect(condition(upload.if, ctx('10.2.0.4', '', 'overrides/overrides-eastus.yaml'), 'success')).toBe(true)
    expect(condition(upload.if, ctx('10.2.0.4', ''), 'success')).toBe(false)
    const dry = ctx('10.2.0.4', '', 'overrides/overrides-eastus.yaml')
    dry.inputs['dry-run'] = true
    expect(condition(upload.if, dry, 'success')).toBe(false)
  })
})

test('the drain is measured: the split check with the drained weights and no fault', () => {
  const w = jobs.drain.steps.find((s) => s.id === 'stage')!.with!
  expect(w).toMatchObject({ weights: '${{ inputs.drained-weights }}', 'fault-mode': 'none' })
})
