// Bundles every action with ncc: src/actions/<name>/index.ts -> dist/<name>/index.js and
// post.ts -> dist/<name>/post.js, each one self-contained file (no shared chunks), as the
// runner loads them. Usage: node scripts/build.ts [action ...]
import ncc from '@vercel/ncc'
import { minify } from 'terser'
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { spawn } from 'node:child_process'

const root = resolve(import.meta.dirname, '..')
// Minified bundles start faster and stay small; MR_MINIFY=0 keeps them readable for debugging.
const MINIFY = process.env.MR_MINIFY !== '0'
const only = process.argv.slice(2)
const actions = readdirSync(join(root, 'src/actions')).filter((n) => only.length === 0 || only.includes(n))

const jobs: Array<{ name: string; entry: string; out: string }> = []
for (const name of actions) {
  for (const [file, out] of [['index.ts', 'index.js'], ['post.ts', 'post.js']]) {
    const entry = join(root, 'src/actions', name, file)
    if (existsSync(entry)) jobs.push({ name, entry, out: join(root, 'dist', name, out) })
  }
}
// Drop bundles of actions that no longer exist (never the whole folder: a test may be reading it).
for (const name of process.env.MR_BUILD_SHARD ? [] : existsSync(join(root, 'dist')) ? readdirSync(join(root, 'dist')) : []) {
  if (!existsSync(join(root, 'src/actions', name))) rmSync(join(root, 'dist', name), { recursive: true, force: true })
}

async function build(job: (typeof jobs)[number]): Promise<void> {
  const started = Date.now()
    const { code, assets } = await ncc(job.entry, { target: 'es2022', cache: false, quiet: true, minify: MINIFY, sourceMap: false, license: '' })
  mkdirSync(dirname(job.out), { recursive: true })
  // Write then rename, so a test running a bundle never sees half a file.
  writeFileSync(`${job.out}.tmp`, code)
  renameSync(`${job.out}.tmp`, job.out)
  for (const [file, asset] of Object.entries(assets)) {
    if (file === 'package.json') continue // the repository's package.json already says "type": "module"
    if (file === 'xdg-open') continue // @azure/identity's browser sign-in helper: an action never opens a browser
    const path = join(dirname(job.out), file)
    mkdirSync(dirname(path), { recursive: true })
    // ncc minifies the entry only; lazily loaded chunks (the Azure SDK) are emitted as assets.
    const source = MINIFY && /^\d+\.index\.js$/.test(file) ? (await minify(String(asset.source), { module: true, compress: false, mangle: true })).code! : asset.source
    writeFileSync(path, source)
  }
  console.log(`built ${job.out.slice(root.length + 1)} (${Math.round(code.length / 1024)} kB, ${Date.now() - started} ms)`)
}

// Two at a time, in two processes: ncc (webpack) keeps one core busy per process, and the machine
// (and a GitHub runner) has two. MR_BUILD_SHARD=i/n builds every n-th bundle from the i-th.
const shard = process.env.MR_BUILD_SHARD?.match(/^(\d+)\/(\d+)$/)
if (!shard) {
  const codes = await Promise.all(
    [0, 1].map(
      (i) =>
        new Promise<number>((done) =>
          spawn(process.execPath, [import.meta.filename, ...only], { stdio: 'inherit', env: { ...process.env, MR_BUILD_SHARD: `${i}/2` } }).on('close', (c) => done(c ?? 1))
        )
    )
  )
  process.exit(codes.some((c) => c !== 0) ? 1 : 0)
}
let failed = 0
for (const job of jobs.filter((_, k) => k % Number(shard[2]) === Number(shard[1]))) {
  try {
    await build(job)
  } catch (e) {
    // ncc's errors carry its whole minified source: keep the message only.
    const msg = (e instanceof Error ? e.message : String(e)).split('\n').filter((l) => l.length < 400).slice(0, 8).join('\n')
    console.error(`build of ${job.entry.slice(root.length + 1)} failed:\n${msg}`)
    failed++
  }
}
if (failed) process.exit(1)
