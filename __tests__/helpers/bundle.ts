// Integration tests drive an action's BUNDLE (dist/<name>/index.js), as the runner does.
// ensureBundle(name) rebuilds that one action when a source it bundles is newer than the bundle,
// under a lock (re-checked inside it), so test files running side by side do not build twice.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../../sandbox/runner.ts'

function newest(dir: string): number {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

export function bundleIsFresh(name: string): boolean {
  const bundle = join(ROOT, 'dist', name, 'index.js')
  if (!existsSync(bundle)) return false
  const src = Math.max(newest(join(ROOT, 'src/core')), newest(join(ROOT, 'src/actions', name)), statSync(join(ROOT, 'package-lock.json')).mtimeMs)
  return statSync(bundle).mtimeMs >= src
}

export function ensureBundle(name: string): void {
  if (bundleIsFresh(name) && !process.env.MR_REBUILD) return
  const self = join(ROOT, '__tests__/helpers/bundle.ts')
  const script = `import('${self}').then(async (m) => { if (!m.bundleIsFresh('${name}') || process.env.MR_FORCE) { const { execFileSync } = await import('node:child_process'); execFileSync(process.execPath, ['scripts/build.ts', '${name}'], { stdio: 'inherit', cwd: '${ROOT}' }) } })`
  execFileSync('flock', [`/tmp/mr-actions-build-${name}.lock`, process.execPath, '--input-type=module', '-e', script], {
    stdio: 'inherit',
    cwd: ROOT,
    env: { ...process.env, MR_REBUILD: '', MR_FORCE: process.env.MR_REBUILD ?? '' }
  })
}
