// The promotion workflow's shape: the stage list the demo reads, one gated environment per stage,
// the action each stage calls, outputs through needs, one promotion per target region.
import { join } from 'node:path'
import YAML from 'yaml'
import { readFileSync } from 'node:fs'
import { ROOT, ourActionOf } from './validate.ts'

const STAGES: Array<[stage: string, action: string | 'run']> = [
  ['preflight', 'preflight'],
  ['network', 'create-vnet-peering'],
  ['seed', 'configure-seed-host'],
  ['install', 'run'],
  ['expand', 'expand-keyspaces'],
  ['rebuild', 'rebuild-dc'],
  ['finalize', 'configure-seed-host'],
  ['verify', 'verify-failover']
]

type Step = { id?: string; uses?: string; run?: string; with?: Record<string, unknown>; if?: unknown }
type Job = { needs?: string | string[]; environment?: unknown; steps: Step[]; outputs?: Record<string, string>; 'runs-on'?: unknown }
const doc = YAML.parse(readFileSync(join(ROOT, '.github/workflows/promote-region.yml'), 'utf8'))
const jobs = doc.jobs as Record<string, Job>
const needsOf = (j: Job): string[] => (j.needs === undefined ? [] : Array.isArray(j.needs) ? j.needs : [j.needs])

test('one job per stage, in promotion order, job id = stage name', () => {
  expect(Object.keys(jobs)).toEqual(STAGES.map(([s]) => s))
})

test('each stage needs the one before it (a linear chain), and nothing later', () => {
  const order = STAGES.map(([s]) => s)
  order.forEach((stage, i) => {
    const needs = needsOf(jobs[stage])
    if (i > 0) expect(needs).toContain(order[i - 1])
    for (const n of needs) expect(order.indexOf(n)).toBeLessThan(i)
  })
})

test.each(STAGES)('%s runs in the environment <prefix>-%s', (stage) => {
  expect(jobs[stage].environment).toBe(`\${{ inputs.environment-prefix }}-${stage}`)
})

test.each(STAGES)("%s calls exactly one of the suite's actions (%s), or runs the caller's command", (stage, action) => {
  const steps = jobs[stage].steps
  const ours = steps.filter((s) => s.uses && ourActionOf(s.uses))
  // Besides that step: only checkout, artifact transfer, a `prepare` run step and kubelogin (AKS mode only).
  for (const s of steps.filter((x) => !ours.includes(x))) {
    if (s.uses?.startsWith('azure/use-kubelogin')) expect(s.if).toBe("inputs.kubelogin-version != ''")
    else if (s.uses) expect(s.uses).toMatch(/^actions\/(checkout|upload-artifact|download-artifact)@v\d+$/)
  }
  const stageSteps = steps.filter((s) => s.id === 'stage')
  expect(stageSteps).toHaveLength(1)
  if (action === 'run') {
    expect(ours).toHaveLength(0)
    expect(stageSteps[0].run).toContain('MR_INSTALL_COMMAND')
  } else {
    expect(ours).toHaveLength(1)
    expect(ours[0]).toBe(stageSteps[0])
    expect(ourActionOf(ours[0].uses!)).toBe(action)
    expect(ours[0].uses).toMatch(action === 'preflight' ? /^org\/mr-actions@v1$/ : new RegExp(`^org/mr-actions/actions/${action}@v1$`))
  }
})

test('seed and finalize run configure-seed-host in their two modes', () => {
  expect(jobs.seed.steps.find((s) => s.id === 'stage')!.with!.mode).toBe('configure')
  expect(jobs.finalize.steps.find((s) => s.id === 'stage')!.with!.mode).toBe('finalize')
})

test('the region, topology and dry-run inputs reach every stage that takes them', () => {
  for (const [stage, action] of STAGES) {
    if (action === 'run') continue
    const w = jobs[stage].steps.find((s) => s.id === 'stage')!.with!
    expect(w.topology).toBe('${{ inputs.topology }}')
    if (stage !== 'preflight') expect(w['dry-run']).toBe('${{ inputs.dry-run }}')
  }
})

test('outputs flow through needs: a job reads only outputs of jobs it needs, and they exist', () => {
  const text = (v: unknown): string => YAML.stringify(v)
  for (const [id, job] of Object.entries(jobs)) {
    for (const m of text(job).matchAll(/needs\.([\w-]+)\.outputs\.([\w-]+)/g)) {
      expect(needsOf(job)).toContain(m[1])
      expect(Object.keys(jobs[m[1]].outputs ?? {})).toContain(m[2])
    }
  }
  // and the workflow's own outputs come from jobs that declare them
  for (const [, o] of Object.entries(doc.on.workflow_call.outputs as Record<string, { value: string }>)) {
    const m = /jobs\.([\w-]+)\.outputs\.([\w-]+)/.exec(o.value)!
    expect(Object.keys(jobs[m[1]].outputs ?? {})).toContain(m[2])
  }
})

test('one promotion per target region at a time, never cancelled by the next', () => {
  expect(doc.concurrency.group).toContain('${{ inputs.target-region }}')
  expect(doc.concurrency['cancel-in-progress']).toBe(false)
})

test('permissions: id-token write (OIDC) and contents read, nothing more', () => {
  expect(doc.permissions).toEqual({ 'id-token': 'write', contents: 'read' })
})

test('the inputs callers use are typed, and the required ones are what a promotion needs', () => {
  const inputs = doc.on.workflow_call.inputs as Record<string, { type: string; required?: boolean }>
  for (const [, spec] of Object.entries(inputs)) expect(['string', 'boolean', 'number']).toContain(spec.type)
  expect(Object.entries(inputs).filter(([, s]) => s.required).map(([k]) => k).sort()).toEqual(['expected-weights', 'source-region', 'target-region', 'topology'])
  expect(inputs['dry-run'].type).toBe('boolean')
  for (const k of ['install-command', 'environment-prefix']) expect(inputs[k]).toBeDefined()
})
