// Cold start of every bundle in dist/: time from spawn to the first line on stdout, median of
// several runs, as a ratio to `node -e 0` (spawn to exit) on the same Node 24 binary; and each
// bundle's size (entry + the chunk files beside it). Goal: <= 3x and <= 3 MB. Also the floor: a
// bundle of nothing but @actions/core printing one line, and each bundle's ratio to it.
// Usage: node bench/coldstart.ts [runs]
// The bundles run with inputs that make them print their first line and stop early (missing
// inputs), in an empty job folder: the figure is the cost of loading the bundle, not of its work.
import ncc from '@vercel/ncc'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '..')
const RUNS = Number(process.argv[2] ?? 9)
const node = process.execPath

function firstLine(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((done, fail) => {
    const t0 = process.hrtime.bigint()
    const child = spawn(node, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'] })
    let seen = false
    const stop = (): void => {
      if (seen) return
      seen = true
      done(Number(process.hrtime.bigint() - t0) / 1e6)
    }
    child.stdout.on('data', stop)
    child.on('exit', stop)
    child.on('error', fail)
  })
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function measure(args: string[], env: Record<string, string> = {}): Promise<number> {
  await firstLine(args, env) // warm the file cache
  const xs: number[] = []
  for (let i = 0; i < RUNS; i++) xs.push(await firstLine(args, env))
  return median(xs)
}

function bundles(): Array<{ name: string; entry: string; bytes: number }> {
  const out: Array<{ name: string; entry: string; bytes: number }> = []
  const dist = join(ROOT, 'dist')
  if (!existsSync(dist)) return out
  for (const dir of readdirSync(dist, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue
    const files = readdirSync(join(dist, dir.name)).filter((f) => f.endsWith('.js'))
    const chunks = files.filter((f) => !['index.js', 'post.js'].includes(f)).reduce((n, f) => n + statSync(join(dist, dir.name, f)).size, 0)
    for (const e of ['index.js', 'post.js']) {
      if (files.includes(e)) out.push({ name: `${dir.name}/${e}`, entry: join(dist, dir.name, e), bytes: statSync(join(dist, dir.name, e)).size + chunks })
    }
  }
  return out
}

const job = mkdtempSync(join(tmpdir(), 'mr-bench-'))
const files: Record<string, string> = {}
for (const f of ['GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY', 'GITHUB_ENV', 'GITHUB_PATH']) {
  files[f] = join(job, f)
  writeFileSync(files[f], '')
}
const env = { ...files, RUNNER_TEMP: job, GITHUB_WORKSPACE: job, GITHUB_ACTIONS: 'true' }

// The floor: the smallest action one can write with the toolkit, bundled the same way (ncc,
// minified): `import * as core from '@actions/core'; core.info('first line')`.
async function floorBundle(): Promise<string> {
  const dir = mkdtempSync(join(ROOT, '.cache', 'bench-floor-'))
  writeFileSync(join(dir, 'entry.ts'), "import * as core from '@actions/core'\ncore.info('first line')\n")
  const { code } = await ncc(join(dir, 'entry.ts'), { target: 'es2022', cache: false, quiet: true, minify: true })
  writeFileSync(join(dir, 'index.mjs'), code)
  return join(dir, 'index.mjs')
}

const base = await measure(['-e', '0'])
const floorEntry = await floorBundle()
const floor = await measure([floorEntry], env)
rmSync(dirname(floorEntry), { recursive: true, force: true })
console.log(`node ${process.version}: 'node -e 0' ${base.toFixed(1)} ms; floor (an @actions/core-only bundle printing one line) ${floor.toFixed(1)} ms = ${(floor / base).toFixed(2)}x (medians of ${RUNS})`)
console.log(['bundle'.padEnd(34), 'first line'.padStart(10), 'ratio'.padStart(6), 'vs floor'.padStart(9), 'size'.padStart(9), '  goal'].join(' '))
let ok = true
for (const b of bundles()) {
  const ms = await measure([b.entry], env)
  const ratio = ms / base
  const mb = b.bytes / 1024 / 1024
  const pass = ratio <= 3 && mb <= 3
  ok &&= pass
  console.log([b.name.padEnd(34), `${ms.toFixed(1)} ms`.padStart(10), `${ratio.toFixed(2)}x`.padStart(6), `${(ms / floor).toFixed(2)}x`.padStart(9), `${mb.toFixed(2)} MB`.padStart(9), pass ? '  ok' : '  MISSED'].join(' '))
}
console.log(ok ? 'all bundles within 3x and 3 MB' : 'some bundles miss the goal (<= 3x node -e 0, <= 3 MB)')
