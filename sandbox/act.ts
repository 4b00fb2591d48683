// Runs a caller workflow under act (github.com/nektos/act, built by scripts/setup.d/act.sh) on
// the host, the way a repository using mr-actions would run it on GitHub: `org/mr-actions@v1` is a
// lean export of this repository (action.yml files, dist/, workflows), actions/upload-artifact and
// download-artifact are the stand-ins in sandbox/act/ (the real ones cannot be fetched offline),
// and act's own artifact server carries the files between jobs. Environment and secrets go
// through files, never argv. Results come from act's JSON log fields (jobResult), not its wording.
import { spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { ROOT } from './runner.ts'

export const ACT = join(ROOT, '.cache/bin/act')
const STAND_INS = ['upload-artifact', 'download-artifact']
const STAND_IN_DIR = join(ROOT, '.cache/act-stand-ins')

export const haveAct = (): boolean => existsSync(ACT)

/** The stand-in actions, bundled with ncc once (rebuilt when their source is newer). */
export async function standIns(): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of STAND_INS) {
    const src = join(ROOT, 'sandbox/act', `${name}.ts`)
    const dir = join(STAND_IN_DIR, name)
    const bundle = join(dir, 'index.mjs')
    if (!existsSync(bundle) || statSync(bundle).mtimeMs < statSync(src).mtimeMs) {
      const { default: ncc } = await import('@vercel/ncc')
      const { code } = await ncc(src, { target: 'es2022', quiet: true, cache: false })
      mkdirSync(dir, { recursive: true })
      writeFileSync(`${bundle}.tmp`, code)
      cpSync(`${bundle}.tmp`, bundle)
      rmSync(`${bundle}.tmp`)
    }
    writeFileSync(
      join(dir, 'action.yml'),
      `name: ${name} (stand-in for act)\ninputs:\n  name: { required: false }\n  path: { required: false }\n  if-no-files-found: { default: warn }\n  overwrite: { default: 'false' }\n  retention-days: { default: '0' }\nruns:\n  using: node20\n  main: index.mjs\n`
    )
    out[`actions/${name}@v4`] = dir
  }
  // azure/use-kubelogin@v1 downloads kubelogin from GitHub releases; act fetches every `uses` of
  // a job before it runs (even steps whose `if` is false), so offline it needs a stand-in: the
  // kubelogin npm run setup built, on PATH, refusing a version other than the one asked for.
  const kubelogin = join(STAND_IN_DIR, 'use-kubelogin')
  mkdirSync(kubelogin, { recursive: true })
  writeFileSync(
    join(kubelogin, 'action.yml'),
    `name: use-kubelogin (stand-in for act)
inputs:
  kubelogin-version: { required: false, default: latest }
  skip-cache: { required: false, default: 'false' }
runs:
  using: composite
  steps:
    - shell: bash
      env:
        WANT: \${{ inputs.kubelogin-version }}
        BIN: ${join(ROOT, '.cache/bin')}
      run: |
        have="$("$BIN/kubelogin" --version | sed -n 's/^git hash: \\(v[0-9.]*\\).*/\\1/p')"
        if [ "$WANT" != latest ] && [ "$WANT" != "$have" ]; then echo "::error::kubelogin $WANT asked for, the sandbox has $have"; exit 1; fi
        echo "$BIN" >> "$GITHUB_PATH"
`
  )
  out['azure/use-kubelogin@v1'] = kubelogin
  return out
}

/** What org/mr-actions@v1 holds for a caller: the action.yml files, the bundles, the workflows. */
export function exportRepo(dir: string): string {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const tracked = execFileSync('git', ['ls-files', 'action.yml', 'actions', '.github/workflows', 'package.json'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean)
  for (const f of tracked) if (existsSync(join(ROOT, f))) cpSync(join(ROOT, f), join(dir, f), { recursive: true })
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true })
  return dir
}

/** Makes `dir` a git repository of `owner/name` (act reads the repository and sha from git). */
export function gitRepo(dir: string, repo = 'example/platform'): void {
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.email=ci@example.com', '-c', 'user.name=ci', ...a], { cwd: dir, stdio: 'ignore' })
  if (!existsSync(join(dir, '.git'))) {
    git('init', '-q', '-b', 'main', '.')
    git('remote', 'add', 'origin', `https://github.com/${repo}.git`)
  }
  git('add', '-A')
  git('commit', '-q', '--allow-empty', '-m', 'caller')
}

const freePort = (): Promise<number> =>
  new Promise((res, rej) => {
    const s = createServer()
    s.once('error', rej)
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => res(p))
    })
  })

export interface ActOptions {
  /** The caller's repository (made a git repository). */
  workdir: string
  /** Workflow file, relative to workdir. */
  workflow: string
  event: 'workflow_dispatch' | 'schedule' | 'push'
  inputs?: Record<string, string>
  env?: Record<string, string>
  secrets?: Record<string, string>
  vars?: Record<string, string>
  /** org/repo@ref -> folder, besides the stand-ins. */
  repositories: Record<string, string>
  /** Called with each JSON log record; return true to cancel the run (SIGINT, as Ctrl-C). */
  cancelWhen?: (rec: ActRecord) => boolean | Promise<boolean>
  timeoutMs?: number
}

export interface ActRecord {
  job?: string
  jobID?: string
  jobResult?: string
  step?: string
  stepResult?: string
  stage?: string
  msg?: string
  [k: string]: unknown
}

export interface ActRun {
  code: number | null
  /** job (act's "caller/called/job" path) -> success / failure / skipped... */
  jobs: Record<string, string>
  records: ActRecord[]
  /** act's artifact server folder: <run>/<name>/<name>.zip */
  artifacts: string
  cancelled: boolean
  ms: number
}

export async function runAct(o: ActOptions): Promise<ActRun> {
  const t0 = Date.now()
  const tmp = mkdtempSync(join(tmpdir(), 'mr-act-'))
  const files = { env: join(tmp, 'env'), secrets: join(tmp, 'secrets'), vars: join(tmp, 'vars'), artifacts: join(tmp, 'artifacts') }
  const PATH = [join(ROOT, 'node_modules/.bin'), join(ROOT, '.cache/bin'), o.env?.PATH ?? process.env.PATH ?? '/usr/bin:/bin'].join(':')
  const dotenv = (m: Record<string, string> = {}): string => Object.entries(m).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n') + '\n'
  writeFileSync(files.env, dotenv({ ...o.env, PATH }), { mode: 0o600 })
  writeFileSync(files.secrets, dotenv(o.secrets), { mode: 0o600 })
  writeFileSync(files.vars, dotenv(o.vars))
  mkdirSync(files.artifacts)
  gitRepo(o.workdir)
  const repos = { ...(await standIns()), ...o.repositories }
  const args = [
    o.event,
    '-C', o.workdir,
    '-W', o.workflow,
    '-P', 'ubuntu-latest=-self-hosted',
    '--env-file', files.env,
    '--secret-file', files.secrets,
    '--var-file', files.vars,
    // inputs are not secret, and act's env-file parser refuses their dashes
    ...Object.entries(o.inputs ?? {}).flatMap(([k, v]) => ['--input', `${k}=${v}`]),
    '--artifact-server-path', files.artifacts,
    '--artifact-server-addr', '127.0.0.1',
    '--artifact-server-port', String(await freePort()),
    '--action-offline-mode',
    '--json',
    ...Object.entries(repos).flatMap(([k, v]) => ['--local-repository', `${k}=${v}`])
  ]
  const child = spawn(ACT, args, { cwd: o.workdir, env: { ...process.env, PATH }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  const records: ActRecord[] = []
  const jobs: Record<string, string> = {}
  let cancelled = false
  let buf = ''
  const maybeCancel = async (rec: ActRecord): Promise<void> => {
    if (!cancelled && o.cancelWhen && (await o.cancelWhen(rec))) {
      cancelled = true
      child.kill('SIGINT')
    }
  }
  const onLine = async (line: string): Promise<void> => {
    let rec: ActRecord
    try {
      rec = JSON.parse(line) as ActRecord
    } catch {
      rec = { msg: line }
    }
    records.push(rec)
    if (rec.jobResult && rec.job) jobs[rec.job] = rec.jobResult
    await maybeCancel(rec)
  }
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString()
    let i: number
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i)
      buf = buf.slice(i + 1)
      if (line.trim()) void onLine(line)
    }
  })
  child.stderr.on('data', (d: Buffer) => records.push({ msg: d.toString(), stderr: true }))
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 1_500_000)
  // a step may be silent for minutes (a drill holding its fault): ask cancelWhen each second too
  const ticker = o.cancelWhen ? setInterval(() => void maybeCancel({}), 1000) : undefined
  const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)))
  clearTimeout(timer)
  clearInterval(ticker)
  if (buf.trim()) await onLine(buf)
  // MR_DEBUG keeps act's whole JSON log for reading after a failure
  if (process.env.MR_DEBUG) writeFileSync(join(tmpdir(), `mr-act-${t0}.jsonl`), records.map((r) => JSON.stringify(r)).join('\n'))
  return { code, jobs, records, artifacts: files.artifacts, cancelled, ms: Date.now() - t0 }
}

/** The files of artifact `name` of an act run (unzipped into a fresh folder), or undefined. */
export function artifactFiles(run: ActRun, name: string): string | undefined {
  for (const runId of readdirSync(run.artifacts)) {
    const zip = join(run.artifacts, runId, name, `${name}.zip`)
    if (existsSync(zip)) {
      const out = mkdtempSync(join(tmpdir(), 'mr-artifact-'))
      execFileSync('unzip', ['-q', zip, '-d', out])
      return out
    }
  }
  return undefined
}

/** The first JSON file of artifact `name` (a stage's report), parsed; throws naming the jobs when absent. */
export function artifactJson(run: ActRun, name: string): Record<string, unknown> {
  const dir = artifactFiles(run, name)
  if (!dir) throw new Error(`no artifact ${name}; jobs: ${JSON.stringify(run.jobs)}`)
  const file = execFileSync('find', [dir, '-name', '*.json'], { encoding: 'utf8' }).trim().split('\n')[0]
  return JSON.parse(readFileSync(file, 'utf8'))
}
