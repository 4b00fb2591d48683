// Runs a bundled action the way the GitHub runner does: inputs as INPUT_* env with action.yml
// defaults filled in, GITHUB_OUTPUT / GITHUB_STATE / GITHUB_STEP_SUMMARY files, RUNNER_TEMP,
// the post step with STATE_* from main. Used by the integration tests and by the demo.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import YAML from 'yaml'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

export interface ActionMeta {
  dir: string
  inputs: Record<string, { default?: string; required?: boolean; description?: string }>
  outputs: Record<string, unknown>
  main: string
  post?: string
  postIf?: string
}

/** Reads actions/<name>/action.yml (or the root action.yml for 'preflight'). */
export function actionMeta(name: string): ActionMeta {
  const dir = name === 'preflight' ? ROOT : join(ROOT, 'actions', name)
  const doc = YAML.parse(readFileSync(join(dir, 'action.yml'), 'utf8'))
  return {
    dir,
    inputs: doc.inputs ?? {},
    outputs: doc.outputs ?? {},
    main: resolve(dir, doc.runs.main),
    post: doc.runs.post ? resolve(dir, doc.runs.post) : undefined,
    postIf: doc.runs['post-if']
  }
}

export interface StepResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  state: Record<string, string>
  summary: string
  ms: number
}

export interface StepOptions {
  /** Extra environment (e.g. PATH with the sandbox's kubectl, KUBECONFIG). */
  env?: Record<string, string>
  /** A job folder shared by main and post (RUNNER_TEMP, workspace, files); made when absent. */
  jobDir?: string
  /** Echo the step's stdout/stderr live (the demo). */
  live?: (chunk: string) => void
  /** State from the main step, passed to post as STATE_*. */
  state?: Record<string, string>
  cwd?: string
}

export interface RunningStep {
  child: ChildProcess
  done: Promise<StepResult>
}

/** Parses the runner's file commands: `name=value` lines and `name<<DELIM ... DELIM` blocks. */
export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const [, name, delim] = heredoc
      const value: string[] = []
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i])
      out[name] = value.join('\n')
    } else if (line.includes('=')) {
      const at = line.indexOf('=')
      out[line.slice(0, at)] = line.slice(at + 1)
    }
  }
  return out
}

export function inputEnv(meta: ActionMeta, inputs: Record<string, string | number | boolean | undefined>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, spec] of Object.entries(meta.inputs)) {
    if (spec.default !== undefined) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = String(spec.default)
  }
  for (const [name, v] of Object.entries(inputs)) {
    if (!(name in meta.inputs)) throw new Error(`input '${name}' is not declared in ${meta.dir}/action.yml`)
    if (v !== undefined) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = String(v)
  }
  return env
}

/** Starts one step (main or post) of an action; `done` resolves when it exits. */
export function startStep(
  name: string,
  which: 'main' | 'post',
  inputs: Record<string, string | number | boolean | undefined>,
  o: StepOptions = {}
): RunningStep {
  const meta = actionMeta(name)
  const script = which === 'main' ? meta.main : meta.post
  if (!script) throw new Error(`action ${name} has no ${which} step`)
  if (!existsSync(script)) throw new Error(`${script} does not exist: run 'npm run build'`)
  const jobDir = o.jobDir ?? mkdtempSync(join(tmpdir(), `mr-job-${name.replace(/\//g, '-')}-`))
  const temp = join(jobDir, 'runner-temp')
  mkdirSync(temp, { recursive: true })
  const id = randomUUID()
  const files = {
    GITHUB_OUTPUT: join(jobDir, `output-${id}`),
    GITHUB_STATE: join(jobDir, `state-${id}`),
    GITHUB_STEP_SUMMARY: join(jobDir, `summary-${id}`),
    GITHUB_ENV: join(jobDir, `env-${id}`),
    GITHUB_PATH: join(jobDir, `path-${id}`)
  }
  for (const f of Object.values(files)) writeFileSync(f, '')
  const stateEnv: Record<string, string> = {}
  for (const [k, v] of Object.entries(o.state ?? {})) stateEnv[`STATE_${k}`] = v
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    RUNNER_TEMP: temp,
    GITHUB_WORKSPACE: o.cwd ?? jobDir,
    GITHUB_ACTION: name,
    GITHUB_RUN_ID: '1',
    GITHUB_REPOSITORY: 'example/platform',
    ...files,
    ...inputEnv(meta, inputs),
    ...stateEnv,
    ...(o.env ?? {})
  }
  const started = Date.now()
  const child = spawn(process.execPath, [script], { cwd: o.cwd ?? jobDir, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d
    o.live?.(d.toString())
  })
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d
    o.live?.(d.toString())
  })
  const done = new Promise<StepResult>((resolveDone) => {
    child.on('close', (code, signal) => {
      resolveDone({
        code,
        signal,
        stdout,
        stderr,
        outputs: parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
        state: parseFileCommands(readFileSync(files.GITHUB_STATE, 'utf8')),
        summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
        ms: Date.now() - started
      })
    })
  })
  return { child, done }
}

/** Runs main, then post when the action has one (post-if: always() semantics). */
export async function runAction(
  name: string,
  inputs: Record<string, string | number | boolean | undefined>,
  o: StepOptions = {}
): Promise<StepResult & { post?: StepResult }> {
  const jobDir = o.jobDir ?? mkdtempSync(join(tmpdir(), `mr-job-${name.replace(/\//g, '-')}-`))
  const main = await startStep(name, 'main', inputs, { ...o, jobDir }).done
  const meta = actionMeta(name)
  if (!meta.post) return main
  const post = await startStep(name, 'post', inputs, { ...o, jobDir, state: main.state }).done
  return { ...main, post }
}
