// The integration test drives dist/failover-issue/index.js, as the runner does; it is rebuilt
// (only this action, under a lock) when a source it bundles is newer than the bundle.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../../../sandbox/runner.ts'

const BUNDLE = join(ROOT, 'dist/failover-issue/index.js')

function newest(dir: string): number {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

export function bundleIsFresh(): boolean {
  if (!existsSync(BUNDLE)) return false
  const src = Math.max(newest(join(ROOT, 'src/core')), newest(join(ROOT, 'src/actions/failover-issue')), statSync(join(ROOT, 'package-lock.json')).mtimeMs)
  return statSync(BUNDLE).mtimeMs >= src
}

export function ensureBundle(): void {
  if (bundleIsFresh()) return
  const check = `import('${join(ROOT, '__tests__/actions/failover-issue/bundle.ts')}').then(async (m) => { if (!m.bundleIsFresh()) { const { execFileSync } = await import('node:child_process'); execFileSync(process.execPath, ['scripts/build.ts', 'failover-issue'], { stdio: 'inherit', cwd: '${ROOT}' }) } })`
  execFileSync('flock', ['/tmp/mr-actions-build-failover-issue.lock', process.execPath, '--input-type=module', '-e', check], { stdio: 'inherit', cwd: ROOT })
}
