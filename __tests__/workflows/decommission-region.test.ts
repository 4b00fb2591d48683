// The decommission workflow's shape: gated stages in order, one environment per stage, the action
// each stage calls with the mode that makes it the reverse step, dry-run reaching every stage.
import { join } from 'node:path'
import YAML from 'yaml'
import { readFileSync } from 'node:fs'
import { ROOT, ourActionOf } from './validate.ts'

const STAGES: Array<[stage: string, action: string, mode: string]> = [
  ['preflight', 'expand-keyspaces', 'remove'],
  ['drain', 'verify-failover', ''],
  ['replicate-away', 'expand-keyspaces', 'remove'],
  ['decommission', 'decommission-dc', ''],
  ['network', 'create-vnet-peering', 'remove'],
  ['finalize', 'expand-keyspaces', 'remove']
]

type Step = { id?: string; uses?: string; run?: string; with?: Record<string, unknown> }
type Job = { needs?: string | string[]; environment?: unknown; steps: Step[] }
const doc = YAML.parse(readFileSync(join(ROOT, '.github/workflows/decommission-region.yml'), 'utf8'))
const jobs = doc.jobs as Record<string, Job>
const needsOf = (j: Job): string[] => (j.needs === undefined ? [] : Array.isArray(j.needs) ? j.needs : [j.needs])

test('one job per stage, in order, each needing the one before it', () => {
  expect(Object.keys(jobs)).toEqual(STAGES.map(([s]) => s))
  STAGES.forEach(([stage], i) => {
    if (i > 0) expect(needsOf(jobs[stage])).toContain(STAGES[i - 1][0])
  })
})

test.each(STAGES)('%s runs in its environment and calls exactly one action of the suite (%s, mode %s; empty = none)', (stage, action, mode) => {
  expect(jobs[stage].environment).toBe(`\${{ inputs.environment-prefix }}-${stage}`)
  const ours = jobs[stage].steps.filter((s) => s.uses && ourActionOf(s.uses))
  expect(ours).toHaveLength(1)
  expect(ours[0].id).toBe('stage')
  expect(ourActionOf(ours[0].uses!)).toBe(action)
  if (mode) expect(ours[0].with?.mode).toBe(mode)
})

test('dry-run reaches every stage; the preflight is always a dry run', () => {
  for (const [stage] of STAGES) {
    const w = jobs[stage].steps.find((s) => s.id === 'stage')!.with!
    expect(w['dry-run']).toBe(stage === 'preflight' ? 'true' : '${{ inputs.dry-run }}')
  }
})

test('the drain is measured: the split check with the drained weights and no fault', () => {
  const w = jobs.drain.steps.find((s) => s.id === 'stage')!.with!
  expect(w).toMatchObject({ weights: '${{ inputs.drained-weights }}', 'fault-mode': 'none' })
})
