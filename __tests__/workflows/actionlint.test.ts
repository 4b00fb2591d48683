// actionlint (built from its Go module by scripts/setup.d/actionlint.sh) over our workflows: no
// findings. And over the broken fixtures: a finding for each, so a silent linter cannot pass.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, workflowFiles } from './validate.ts'

const BIN = join(ROOT, '.cache/bin/actionlint')
const have = existsSync(BIN)
const lint = (files: string[]) =>
  spawnSync(BIN, ['-no-color', '-oneline', ...files], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })

if (!have) {
  test.skip('actionlint: .cache/bin/actionlint is absent; run `npm run setup` (scripts/setup.d/actionlint.sh needs Go)', () => {})
} else {
  test('our workflows have no actionlint findings', () => {
    const r = lint(workflowFiles())
    expect(r.stdout + r.stderr).toBe('')
    expect(r.status).toBe(0)
  })

  const dir = join(ROOT, '__tests__/fixtures/workflows/broken')
  // invalid-yaml and friends are also rejected by actionlint; every fixture must be.
  test.each(readdirSync(dir).filter((f) => f.endsWith('.yml')).sort())('actionlint rejects broken/%s', (f) => {
    const r = lint([join(dir, f)])
    expect(r.status).toBe(1)
    expect(r.stdout).toContain(f)
  })

  test('the control fixture passes actionlint', () => {
    const r = lint([join(ROOT, '__tests__/fixtures/workflows/good/minimal.yml')])
    expect(r.stdout + r.stderr).toBe('')
    expect(r.status).toBe(0)
  })
}
