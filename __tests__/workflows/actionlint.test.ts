// actionlint (built from its Go module by scripts/setup.d/actionlint.sh) over our workflows, with
// shellcheck (Debian's, scripts/setup.d/shellcheck.sh) on PATH as on GitHub's hosted runners, where
// actionlint runs it on every `run:` block: no findings. And over the broken fixtures: a finding for
// each, so a silent linter (or a missing shellcheck) cannot pass.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, workflowFiles } from './validate.ts'

const BIN_DIR = join(ROOT, '.cache/bin')
const BIN = join(BIN_DIR, 'actionlint')
const have = existsSync(BIN) && existsSync(join(BIN_DIR, 'shellcheck'))
const lint = (files: string[]) =>
  spawnSync(BIN, ['-no-color', '-oneline', ...files], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, PATH: `${BIN_DIR}:${process.env.PATH ?? ''}` },
  })

if (!have) {
  // a missing linter fails, as the act suites do: a silent skip would pass CI with nothing linted
  test('actionlint and shellcheck are installed (npm run setup: scripts/setup.d/actionlint.sh needs Go)', () => expect({ actionlint: existsSync(BIN), shellcheck: existsSync(join(BIN_DIR, 'shellcheck')) }).toEqual({ actionlint: true, shellcheck: true }))
} else {
  test('our workflows have no actionlint findings (shellcheck included)', () => {
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

  test('shellcheck runs: a single-quoted $REGION in a run block is reported as SC2016', () => {
    const f = join(ROOT, '__tests__/fixtures/workflows/shellcheck/single-quoted-expansion.yml')
    const r = lint([f])
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(/single-quoted-expansion\.yml:9:\d+: .*SC2016/)
  })

  test('the control fixture passes actionlint', () => {
    const r = lint([join(ROOT, '__tests__/fixtures/workflows/good/minimal.yml')])
    expect(r.stdout + r.stderr).toBe('')
    expect(r.status).toBe(0)
  })
}
