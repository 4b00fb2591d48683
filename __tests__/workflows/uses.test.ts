// Every `with:` key a workflow passes to one of our actions is an input of that action, every
// required input is given, and every output read from such a step is declared.
import { join } from 'node:path'
import { existsSync, readFileSync } from 'node:fs'
import YAML from 'yaml'
import { ROOT, checkUses, loadRaw, ourActionOf, workflowFiles, type ActionMetaLite } from './validate.ts'

const DRIFT = join(ROOT, '__tests__/fixtures/workflows/drift')

describe('ourActionOf maps step references to our action.yml files', () => {
  test.each([
    ['org/mr-actions@v1', 'preflight'],
    ['./', 'preflight'],
    ['org/mr-actions/actions/rebuild-dc@v1', 'rebuild-dc'],
    ['org/mr-actions/actions/rebuild-dc@0123456789abcdef0123456789abcdef01234567', 'rebuild-dc'],
    ['./actions/expand-keyspaces', 'expand-keyspaces'],
    ['org/mr-actions/actions/internal/failover-issue@v1', 'internal/failover-issue'],
    ['actions/checkout@v4', undefined],
    ['other/mr-actions-fork/actions/rebuild-dc@v1', undefined],
    ['org/mr-actions/.github/workflows/promote-region.yml@v1', undefined]
  ])('%s -> %s', (uses, want) => {
    expect(ourActionOf(uses)).toBe(want)
  })
})

test('the checker reports a wrong input, a missing required input, an undeclared output and a missing action', () => {
  const metaOf = (name: string): ActionMetaLite | undefined => {
    const p = join(DRIFT, 'actions', name, 'action.yml')
    if (!existsSync(p)) return undefined
    const d = YAML.parse(readFileSync(p, 'utf8'))
    return { inputs: d.inputs ?? {}, outputs: d.outputs ?? {} }
  }
  const r = checkUses(loadRaw(join(DRIFT, 'wrong-inputs.yml')), metaOf)
  expect(r.checked).toBe(2)
  expect(r.problems).toHaveLength(3)
  expect(r.problems.join('\n')).toMatch(/input 'dryrun' is not declared/)
  expect(r.problems.join('\n')).toMatch(/required input 'target-region' .* is not given/)
  expect(r.problems.join('\n')).toMatch(/steps\.stage\.outputs\.seed-host, which .* does not declare/)
  // 'timeout' is required but has a default: not a problem. The second job is right.
  expect(r.problems.join('\n')).not.toMatch(/input 'timeout'|jobs\.ok/)
  expect(r.missing).toEqual([expect.stringMatching(/actions\/not-there\/action\.yml does not exist/)])
})

const files = workflowFiles()
describe.each(files.map((f) => [f.slice(ROOT.length + 1), f]))('%s', (_name, file) => {
  const raw = loadRaw(file)
  const r = checkUses(raw)
  test('inputs and outputs match the action.yml of every action it calls', () => {
    expect(r.problems).toEqual([])
  })
  // An action whose action.yml has not landed yet cannot be checked: listed as skipped, by name.
  for (const m of r.missing) test.skip(`not checked yet: ${m}`, () => {})
})

test('every action the workflows call exists, except those listed as skipped above', () => {
  const called = new Set<string>()
  for (const f of workflowFiles()) {
    for (const job of Object.values(loadRaw(f).doc.jobs ?? {})) {
      for (const s of job.steps ?? []) {
        const a = typeof s.uses === 'string' ? ourActionOf(s.uses) : undefined
        if (a) called.add(a)
      }
    }
  }
  expect([...called].sort()).toEqual(
    ['configure-seed-host', 'create-vnet-peering', 'decommission-dc', 'expand-keyspaces', 'internal/failover-issue', 'preflight', 'rebuild-dc', 'verify-failover'].sort()
  )
})
