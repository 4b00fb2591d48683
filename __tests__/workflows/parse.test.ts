// Every workflow and every action.yml of the suite parses cleanly with GitHub's own parser; the
// parser (as we call it) rejects each deliberately broken fixture with the expected message, and
// accepts the control fixture they were all made from.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { ROOT, checkAction, checkWorkflow, ourActions, workflowFiles } from './validate.ts'

const FIX = join(ROOT, '__tests__/fixtures/workflows')
const ours = workflowFiles()
const actions = ourActions()
const fixtures = (dir: string): string[] =>
  readdirSync(join(FIX, dir))
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => join(FIX, dir, f))
/** `# expect: text` lines at the top of a fixture. */
const expects = (text: string): string[] => [...text.matchAll(/^# expect: (.+)$/gm)].map((m) => m[1].trim())

describe('our workflows parse with @actions/workflow-parser', () => {
  test('there are workflows to check', () => {
    expect(ours.map((f) => relative(ROOT, f))).toEqual(
      expect.arrayContaining(['.github/workflows/promote-region.yml', '.github/workflows/ci.yml'].map((p) => p))
    )
  })
  test.each(ours.map((f) => [relative(ROOT, f), f]))('%s', async (name, file) => {
    const r = await checkWorkflow(name, readFileSync(file, 'utf8'))
    expect(r.errors).toEqual([])
    expect(r.template?.jobs.length).toBeGreaterThan(0)
  })
})

describe('our action.yml files parse with @actions/workflow-parser', () => {
  test('the root action.yml and actions/** are found', () => {
    expect(actions.length).toBeGreaterThan(0)
  })
  test.each(actions.map((a) => [a.yml, a]))('%s', (yml, a) => {
    const r = checkAction(yml, readFileSync(join(ROOT, a.yml), 'utf8'))
    expect(r.errors).toEqual([])
    const runs = r.action!.runs
    expect(runs.using).toBe('node24')
    if (runs.using !== 'node24') return
    // main (and post) point at the bundle built from this action's source folder.
    const bundle = a.src.replace(/^src\/actions\//, '')
    const dir = join(ROOT, a.yml, '..')
    expect(relative(ROOT, join(dir, runs.main))).toBe(`dist/${bundle}/index.js`)
    if (runs.post) expect(relative(ROOT, join(dir, runs.post))).toBe(`dist/${bundle}/post.js`)
    expect(readdirSync(join(ROOT, a.src))).toContain('index.ts')
    for (const input of r.action!.inputs ?? []) expect(input.description ?? '').not.toBe('')
  })
})

describe('the parser catches broken workflows', () => {
  test('the control fixture passes', async () => {
    for (const f of fixtures('good')) {
      expect((await checkWorkflow(relative(FIX, f), readFileSync(f, 'utf8'))).errors).toEqual([])
    }
  })
  const broken = fixtures('broken')
  test('covers the kinds of breakage asked for', () => {
    const names = broken.map((f) => f.split('/').pop())
    for (const kind of ['bad-expression.yml', 'unknown-key.yml', 'missing-runs-on.yml', 'needs-unknown-job.yml']) {
      expect(names).toContain(kind)
    }
  })
  test.each(broken.map((f) => [relative(FIX, f), f]))('%s fails', async (name, file) => {
    const text = readFileSync(file, 'utf8')
    const want = expects(text)
    expect(want.length).toBeGreaterThan(0)
    const r = await checkWorkflow(name, text)
    expect(r.errors.length).toBeGreaterThan(0)
    for (const w of want) expect(r.errors.join('\n')).toContain(w)
  })
  test.each(fixtures('broken-actions').map((f) => [relative(FIX, f), f]))('%s fails', (name, file) => {
    const text = readFileSync(file, 'utf8')
    const want = expects(text)
    expect(want.length).toBeGreaterThan(0)
    const r = checkAction(name, text)
    for (const w of want) expect(r.errors.join('\n')).toContain(w)
  })
})
