// Runs a workflow file's jobs locally, in `needs` order, the way the runner would: `if:`,
// `with:`, `env:` and `run:` are evaluated with GitHub's own expression library
// (@actions/expressions); `uses:` steps that name one of this repository's actions run the
// committed bundle through sandbox/runner.ts (main, then post). The demo reads the stage list
// from the workflow this way, so the two cannot drift.
import { Evaluator, Lexer, Parser, data } from '@actions/expressions'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import YAML from 'yaml'
import { parseFileCommands, runAction, type StepResult } from './runner.ts'

export interface WorkflowStep {
  id?: string
  name?: string
  uses?: string
  run?: string
  with?: Record<string, unknown>
  env?: Record<string, unknown>
  if?: string | boolean
  'continue-on-error'?: boolean
}

export interface WorkflowJob {
  id: string
  name?: string
  needs: string[]
  if?: string | boolean
  environment?: unknown
  outputs: Record<string, string>
  steps: WorkflowStep[]
}

export interface Workflow {
  path: string
  name?: string
  inputs: Record<string, { default?: unknown; type?: string; required?: boolean }>
  jobs: WorkflowJob[]
}

const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)])

/** Reads a workflow; jobs come back in an order that respects `needs` (file order otherwise). */
export function loadWorkflow(path: string): Workflow {
  const doc = YAML.parse(readFileSync(path, 'utf8'))
  const on = doc.on ?? doc[true as unknown as string] ?? {}
  const inputs = { ...(on.workflow_dispatch?.inputs ?? {}), ...(on.workflow_call?.inputs ?? {}) }
  const raw: WorkflowJob[] = Object.entries(doc.jobs ?? {}).map(([id, j]) => {
    const job = j as Record<string, unknown>
    return {
      id,
      name: job.name as string | undefined,
      needs: asList(job.needs),
      if: job.if as string | undefined,
      environment: job.environment,
      outputs: (job.outputs ?? {}) as Record<string, string>,
      steps: (job.steps ?? []) as WorkflowStep[]
    }
  })
  const done = new Set<string>()
  const ordered: WorkflowJob[] = []
  while (ordered.length < raw.length) {
    const next = raw.find((j) => !done.has(j.id) && j.needs.every((n) => done.has(n)))
    if (!next) throw new Error(`${path}: jobs have a cycle or need an unknown job`)
    done.add(next.id)
    ordered.push(next)
  }
  return { path, name: doc.name, inputs, jobs: ordered }
}

function runBash(script: string, o: { cwd?: string; env: Record<string, string>; live?: (chunk: string) => void }): Promise<number> {
  return new Promise((resolveRun) => {
    const child = spawn('bash', ['-eo', 'pipefail', '-c', script], { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.on('data', (d: Buffer) => o.live?.(d.toString()))
    child.stderr.on('data', (d: Buffer) => o.live?.(d.toString()))
    child.on('close', (code) => resolveRun(code ?? 1))
  })
}

/** The contexts an expression can read. */
export interface Contexts {
  inputs: Record<string, unknown>
  needs: Record<string, { result: string; outputs: Record<string, string> }>
  steps: Record<string, { outcome: string; conclusion: string; outputs: Record<string, string> }>
  env: Record<string, string>
  github: Record<string, unknown>
  vars: Record<string, string>
  secrets: Record<string, string>
  runner: Record<string, string>
  job: Record<string, unknown>
  matrix: Record<string, unknown>
}

type Status = 'success' | 'failure' | 'cancelled'

function evaluate(expr: string, ctx: Contexts, status: Status): data.ExpressionData {
  const lexed = new Lexer(expr).lex()
  const statusFns = ['success', 'failure', 'always', 'cancelled']
  const parser = new Parser(
    lexed.tokens,
    Object.keys(ctx),
    statusFns.map((name) => ({ name, minArgs: 0, maxArgs: 0 }))
  )
  const dict = JSON.parse(JSON.stringify(ctx), data.reviver) as data.Dictionary
  const fns = new Map(
    statusFns.map((name) => [
      name,
      {
        name,
        minArgs: 0,
        maxArgs: 0,
        call: () => new data.BooleanData(name === 'always' || name === status)
      }
    ])
  )
  return new Evaluator(parser.parse(), dict, fns).evaluate()
}

// GitHub's truthiness: false, 0, '', null are falsy; everything else (arrays, objects) truthy.
function truthy(d: data.ExpressionData): boolean {
  switch (d.kind) {
    case data.Kind.Null:
      return false
    case data.Kind.Boolean:
      return d.coerceString() === 'true'
    case data.Kind.String:
      return d.coerceString() !== ''
    case data.Kind.Number:
      return d.number() !== 0 && !Number.isNaN(d.number())
    default:
      return true
  }
}

/** Replaces every ${{ ... }} in a string (the way `with:`, `env:` and `run:` are evaluated). */
export function interpolate(value: unknown, ctx: Contexts, status: Status = 'success'): string {
  const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value)
  return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, e: string) => evaluate(e.trim(), ctx, status).coerceString())
}

/** Evaluates an `if:` (with or without ${{ }}); a bare condition gets success() implied. */
export function condition(cond: string | boolean | undefined, ctx: Contexts, status: Status): boolean {
  if (cond === undefined) return status === 'success'
  if (typeof cond === 'boolean') return cond && status === 'success'
  let e = cond.trim()
  const m = /^\$\{\{([\s\S]*)\}\}$/.exec(e)
  if (m) e = m[1].trim()
  const usesStatus = /\b(success|failure|always|cancelled)\(\)/.test(e)
  const v = truthy(evaluate(e, ctx, status))
  return usesStatus ? v : v && status === 'success'
}

/** Maps `uses: org/mr-actions/actions/<name>@v1` (or `./actions/<name>`) to a local action name. */
export function localAction(uses: string): string | undefined {
  const m = /^(?:[\w.-]+\/mr-actions|\.)(?:\/actions\/((?:internal\/)?[\w-]+))?(?:@[\w.-]+)?$/.exec(uses)
  if (!m) return undefined
  return m[1] ?? 'preflight'
}

export interface JobRun {
  job: WorkflowJob
  result: 'success' | 'failure' | 'skipped'
  ms: number
  /** summary: what a `run:` step wrote to $GITHUB_STEP_SUMMARY (action steps: result.summary). */
  steps: Array<{ step: WorkflowStep; action?: string; result?: StepResult & { post?: StepResult }; skipped?: boolean; ms: number; summary?: string }>
  outputs: Record<string, string>
}

export interface RunWorkflowOptions {
  inputs: Record<string, unknown>
  /** Environment for every step (PATH with kubectl, KUBECONFIG, sandbox endpoints, ...). */
  env?: Record<string, string>
  cwd?: string
  /** Only these jobs (in workflow order); the others count as skipped. */
  only?: string[]
  onJobStart?: (job: WorkflowJob) => void
  onJobEnd?: (run: JobRun) => void
  live?: (chunk: string) => void
}

/** Runs the jobs in order; stops scheduling dependants of a failed job, as GitHub does. */
export async function runWorkflow(wf: Workflow, o: RunWorkflowOptions): Promise<JobRun[]> {
  const inputs: Record<string, unknown> = {}
  for (const [k, spec] of Object.entries(wf.inputs)) if (spec.default !== undefined) inputs[k] = spec.default
  Object.assign(inputs, o.inputs)
  const needs: Contexts['needs'] = {}
  const runs: JobRun[] = []
  for (const job of wf.jobs) {
    const ctx: Contexts = {
      inputs,
      needs: Object.fromEntries(job.needs.map((n) => [n, needs[n]])),
      steps: {},
      env: { ...(o.env ?? {}) },
      github: { repository: 'example/platform', event_name: 'workflow_call', run_id: '1', workspace: o.cwd ?? process.cwd() },
      vars: {},
      secrets: {},
      runner: { os: 'Linux', temp: '' },
      job: {},
      matrix: {}
    }
    const upstream = job.needs.map((n) => needs[n]?.result)
    const status: Status = upstream.includes('failure') ? 'failure' : 'success'
    const skip = (o.only && !o.only.includes(job.id)) || upstream.includes('skipped') && !String(job.if ?? '').includes('always()') || !condition(job.if, ctx, status)
    // A job's name may hold expressions (`drill ${{ inputs.region }}`): show it evaluated.
    const shown: WorkflowJob = { ...job, name: job.name === undefined ? undefined : interpolate(job.name, ctx) }
    const run: JobRun = { job: shown, result: 'skipped', ms: 0, steps: [], outputs: {} }
    if (!skip) {
      o.onJobStart?.(shown)
      const started = Date.now()
      let runnerTemp: string | undefined
      let jobStatus: Status = 'success'
      for (const step of job.steps) {
        const t0 = Date.now()
        if (!condition(step.if, ctx, jobStatus)) {
          run.steps.push({ step, skipped: true, ms: 0 })
          continue
        }
        const env = { ...(o.env ?? {}) }
        for (const [k, v] of Object.entries(step.env ?? {})) env[k] = interpolate(v, ctx, jobStatus)
        let ok = true
        let outputs: Record<string, string> = {}
        if (step.uses) {
          const action = localAction(step.uses)
          if (!action) {
            // Third-party actions (checkout, setup-node) have nothing to do in the sandbox.
            run.steps.push({ step, skipped: true, ms: 0 })
            continue
          }
          const inputsForStep: Record<string, string> = {}
          for (const [k, v] of Object.entries(step.with ?? {})) inputsForStep[k] = interpolate(v, ctx, jobStatus)
          const result = await runAction(action, inputsForStep, { env, cwd: o.cwd, live: o.live })
          ok = result.code === 0
          outputs = result.outputs
          run.steps.push({ step, action, result, ms: Date.now() - t0 })
        } else if (step.run) {
          const script = interpolate(step.run, ctx, jobStatus)
          // The file commands a runner gives every step; the job's temp folder is shared by its steps.
          const stepDir = mkdtempSync(join(tmpdir(), 'mr-run-'))
          const files = { GITHUB_OUTPUT: join(stepDir, 'output'), GITHUB_STEP_SUMMARY: join(stepDir, 'summary') }
          for (const f of Object.values(files)) writeFileSync(f, '')
          runnerTemp ??= mkdtempSync(join(tmpdir(), 'mr-runner-temp-'))
          const stepEnv = { ...process.env, ...env, ...files, RUNNER_TEMP: runnerTemp } as Record<string, string>
          // Async: the caller may host servers (ARM double, ingress) in this very process.
          ok = (await runBash(script, { cwd: o.cwd, env: stepEnv, live: o.live })) === 0
          outputs = parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8'))
          run.steps.push({ step, ms: Date.now() - t0, summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8') })
        }
        const outcome = ok ? 'success' : 'failure'
        if (step.id) ctx.steps[step.id] = { outcome, conclusion: ok || step['continue-on-error'] ? 'success' : 'failure', outputs }
        if (!ok && !step['continue-on-error']) jobStatus = 'failure'
      }
      run.result = jobStatus === 'success' ? 'success' : 'failure'
      for (const [k, v] of Object.entries(job.outputs)) run.outputs[k] = interpolate(v, ctx, jobStatus)
      run.ms = Date.now() - started
      o.onJobEnd?.(run)
    }
    needs[job.id] = { result: run.result, outputs: run.outputs }
    runs.push(run)
  }
  return runs
}
