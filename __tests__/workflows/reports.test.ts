// Every stage uploads its JSON report (output report-path) as an artifact named per stage, also
// when the stage failed; the install stage (a `run:` step) writes one too. (That the upload really
// happens is proven under act, __tests__/act.)
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import YAML from 'yaml'
import { ROOT } from './validate.ts'

type Step = { id?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown>; env?: Record<string, string> }
type Job = { steps: Step[] }
const jobsOf = (file: string): Record<string, Job> =>
  YAML.parse(readFileSync(join(ROOT, '.github/workflows', file), 'utf8')).jobs

const STAGE_STEPS: Array<[file: string, job: string, step: string]> = [
  ...['preflight', 'network', 'seed', 'install', 'expand', 'rebuild', 'finalize', 'verify'].map(
    (j): [string, string, string] => ['promote-region.yml', j, 'stage']
  ),
  ...['preflight', 'drain', 'replicate-away', 'decommission', 'network', 'finalize'].map(
    (j): [string, string, string] => ['decommission-region.yml', j, 'stage']
  ),
  ['dr-drill.yml', 'drill', 'drill'],
  ['failover-test.yml', 'test', 'verify']
]

test.each(STAGE_STEPS)('%s job %s uploads the report of step %s, always, under its own name', (file, job, id) => {
  const steps = jobsOf(file)[job].steps
  const at = steps.findIndex((s) => s.id === id)
  const uploads = steps.filter((s) => /^actions\/upload-artifact@v4$/.test(s.uses ?? '') && String(s.with?.path) === `\${{ steps.${id}.outputs.report-path }}`)
  expect(uploads).toHaveLength(1)
  expect(steps.indexOf(uploads[0])).toBeGreaterThan(at)
  expect(uploads[0].if).toMatch(/^\$\{\{ always\(\) && /)
  expect(String(uploads[0].with!.name)).toMatch(/^mr-report-/)
  expect(uploads[0].with!.overwrite).toBe(true) // a re-run of the job replaces its report
})

test('report artifact names differ between the stages of one promotion', () => {
  const jobs = jobsOf('promote-region.yml')
  const names = Object.values(jobs).flatMap((j) => j.steps.filter((s) => String(s.with?.path ?? '').includes('report-path')).map((s) => s.with!.name))
  expect(names).toHaveLength(8)
  expect(new Set(names).size).toBe(8)
  for (const n of names) expect(n).toContain('${{ inputs.target-region }}')
})

describe("the install stage's run step writes its report however it ends", () => {
  const step = jobsOf('promote-region.yml').install.steps.find((s) => s.id === 'stage')!
  const run = (env: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'mr-install-'))
    const out = join(dir, 'output')
    writeFileSync(out, '')
    const r = spawnSync('bash', ['-e', '-c', step.run!], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH!, RUNNER_TEMP: dir, GITHUB_OUTPUT: out, GITHUB_STEP_SUMMARY: join(dir, 'summary'), MR_TARGET_REGION: 'westeurope', MR_OVERRIDES_NAME: join(dir, 'o.yaml'), MR_DRY_RUN: 'false', MR_INSTALL_COMMAND: '', MR_SEED_HOSTS: '', MR_SOURCE_REGION: 'eastus', ...env }
    })
    const path = /^report-path=(.*)$/m.exec(readFileSync(out, 'utf8'))?.[1]
    return { code: r.status, report: path ? JSON.parse(readFileSync(path, 'utf8')) : undefined }
  }
  test.each([
    [{}, 0, 'skipped'],
    [{ MR_INSTALL_COMMAND: 'true', MR_DRY_RUN: 'true' }, 0, 'planned'],
    [{ MR_INSTALL_COMMAND: 'true' }, 0, 'succeeded'],
    [{ MR_INSTALL_COMMAND: 'exit 3' }, 3, 'failed']
  ])('%j: exit %d, status %s', (env, code, status) => {
    const r = run(env as Record<string, string>)
    expect(r.code).toBe(code)
    expect(r.report).toMatchObject({ action: 'install', status, targetRegion: 'westeurope' })
  })
})
