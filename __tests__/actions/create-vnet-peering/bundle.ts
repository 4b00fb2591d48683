// Integration tests drive the BUNDLE (dist/create-vnet-peering/index.js), as the runner does.
// ensureBundle() rebuilds it when any source is newer (under a lock, so parallel test files
// do not build twice). `npm test` therefore works on a fresh clone, at the cost of one build.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../../../sandbox/runner.ts'

const BUNDLE = join(ROOT, 'dist/create-vnet-peering/index.js')

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
  const src = Math.max(newest(join(ROOT, 'src/core')), newest(join(ROOT, 'src/actions/create-vnet-peering')), statSync(join(ROOT, 'package-lock.json')).mtimeMs)
  return statSync(BUNDLE).mtimeMs >= src
}

export function ensureBundle(): void {
  if (bundleIsFresh() && !process.env.MR_REBUILD) return
  const script = `import('${join(ROOT, '__tests__/actions/create-vnet-peering/bundle.ts')}').then(async (m) => { if (!m.bundleIsFresh() || process.env.MR_REBUILD) { const { execFileSync } = await import('node:child_process'); execFileSync(process.execPath, ['scripts/build.ts', 'create-vnet-peering'], { stdio: 'inherit', cwd: '${ROOT}' }) } })`
  execFileSync('flock', ['/tmp/mr-actions-build-create-vnet-peering.lock', process.execPath, '--input-type=module', '-e', script], { stdio: 'inherit', cwd: ROOT, env: { ...process.env, MR_REBUILD: '' } })
}
