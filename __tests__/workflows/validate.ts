// Offline validation of workflows and action metadata with GitHub's own parser
// (@actions/workflow-parser: the schema and converter behind GitHub's Actions language server and
// VS Code extension), plus the suite-specific cross-checks the tests run.
//
// Runs under jest. (Plain Node refuses to load the package: it imports its JSON schemas without an
// import attribute; jest loads them and prints a deprecation notice, nothing more.)
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import YAML from 'yaml'
import { parseAction } from '@actions/workflow-parser/actions/action-parser'
import { convertActionTemplate, type ActionTemplate } from '@actions/workflow-parser/actions/action-template'
import { ErrorPolicy, convertWorkflowTemplate } from '@actions/workflow-parser/model/convert'
import type { WorkflowTemplate } from '@actions/workflow-parser/model/workflow-template'
import type { TemplateContext } from '@actions/workflow-parser/templates/template-context'
import { NoOperationTraceWriter } from '@actions/workflow-parser/templates/trace-writer'
import { parseWorkflow } from '@actions/workflow-parser/workflows/workflow-parser'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const WORKFLOWS = join(ROOT, '.github/workflows')

const messages = (ctx: TemplateContext): string[] => ctx.errors.getErrors().map((e) => e.message)
const unique = (xs: string[]): string[] => [...new Set(xs)]

export interface WorkflowCheck {
  errors: string[]
  template?: WorkflowTemplate
}

/**
 * Parses a workflow as GitHub does: schema (keys, types, expression syntax, allowed contexts per
 * key) and then conversion (job graph: unknown needs, cycles; cron; step ids; ...).
 */
export async function checkWorkflow(name: string, content: string): Promise<WorkflowCheck> {
  const { context: ctx, value: token } = parseWorkflow({ name, content }, new NoOperationTraceWriter())
  if (!token) return { errors: messages(ctx) }
  const template = await convertWorkflowTemplate(ctx, token, undefined, { errorPolicy: ErrorPolicy.TryConversion })
  return { errors: unique([...messages(ctx), ...(template.errors ?? []).map((e) => e.Message)]), template }
}

export interface ActionCheck {
  errors: string[]
  action?: ActionTemplate
}

/** Parses an action.yml against GitHub's action schema and converts it. */
export function checkAction(name: string, content: string): ActionCheck {
  const { context: ctx, value: token } = parseAction({ name, content }, new NoOperationTraceWriter())
  if (!token) return { errors: messages(ctx) }
  const action = convertActionTemplate(ctx, token, { errorPolicy: ErrorPolicy.TryConversion })
  return { errors: unique(messages(ctx)), action }
}

// ---------------------------------------------------------------------------------------------
// The suite's own actions and how workflows refer to them

/** The placeholder owner/repo the READMEs and the workflows use for this repository. */
export const SELF = 'org/mr-actions'

export interface OurAction {
  /** 'preflight' for the root action.yml, else the folder under actions/ (e.g. 'rebuild-dc', 'internal/failover-issue'). */
  name: string
  /** action.yml path relative to the repository root. */
  yml: string
  /** Source folder under src/actions/ (main.ts, post.ts). */
  src: string
}

/** Every action.yml of the suite: the root one and actions/** (any depth). */
export function ourActions(): OurAction[] {
  const out: OurAction[] = []
  if (existsSync(join(ROOT, 'action.yml'))) out.push({ name: 'preflight', yml: 'action.yml', src: 'src/actions/preflight' })
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue
      const sub = join(dir, e.name)
      if (existsSync(join(sub, 'action.yml'))) {
        const name = relative(join(ROOT, 'actions'), sub).split('\\').join('/')
        out.push({ name, yml: relative(ROOT, join(sub, 'action.yml')), src: `src/actions/${name.split('/').pop()}` })
      }
      walk(sub)
    }
  }
  walk(join(ROOT, 'actions'))
  return out.sort((a, b) => a.name.localeCompare(b.name))
}

/**
 * Which of our actions a step's `uses` names, or undefined for anyone else's:
 * `org/mr-actions@v1` and `./` -> the root (preflight); `org/mr-actions/actions/<path>@ref` and
 * `./actions/<path>` -> actions/<path>.
 */
export function ourActionOf(uses: string): string | undefined {
  const remote = new RegExp(`^${SELF}(?:/actions/([A-Za-z0-9._/-]+?))?@[^@\\s]+$`).exec(uses)
  if (remote) return remote[1] ?? 'preflight'
  if (uses === './' || uses === '.') return 'preflight'
  const local = /^\.\/actions\/([A-Za-z0-9._/-]+?)\/?$/.exec(uses)
  return local ? local[1] : undefined
}

export const ymlOf = (name: string): string => (name === 'preflight' ? 'action.yml' : `actions/${name}/action.yml`)

export interface StepRef {
  workflow: string
  job: string
  index: number
  id?: string
  uses?: string
  run?: string
  with: Record<string, unknown>
}

export interface RawWorkflow {
  file: string
  doc: {
    on?: unknown
    jobs?: Record<string, { steps?: Array<Record<string, unknown>>; outputs?: Record<string, string>; needs?: string | string[]; uses?: string; with?: Record<string, unknown> }>
  }
}

export function workflowFiles(dir = WORKFLOWS): string[] {
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((f) => join(dir, f))
    : []
}

export function loadRaw(file: string): RawWorkflow {
  return { file: relative(ROOT, file), doc: YAML.parse(readFileSync(file, 'utf8')) ?? {} }
}

export function stepsOf(w: RawWorkflow): StepRef[] {
  const out: StepRef[] = []
  for (const [job, def] of Object.entries(w.doc.jobs ?? {})) {
    ;(def.steps ?? []).forEach((s, index) => {
      out.push({
        workflow: w.file,
        job,
        index,
        id: typeof s.id === 'string' ? s.id : undefined,
        uses: typeof s.uses === 'string' ? s.uses : undefined,
        run: typeof s.run === 'string' ? s.run : undefined,
        with: (s.with as Record<string, unknown>) ?? {}
      })
    })
  }
  return out
}

export interface ActionMetaLite {
  inputs: Record<string, { required?: boolean; default?: unknown }>
  outputs: Record<string, unknown>
}

export function actionMetaOf(name: string): ActionMetaLite | undefined {
  const path = join(ROOT, ymlOf(name))
  if (!existsSync(path)) return undefined
  const doc = YAML.parse(readFileSync(path, 'utf8')) ?? {}
  return { inputs: doc.inputs ?? {}, outputs: doc.outputs ?? {} }
}

// ---------------------------------------------------------------------------------------------
// Inputs that the source code reads

/** Methods of src/core/inputs.ts InputReader that take an input name first. */
export const READER_GETTERS = ['string', 'requiredString', 'bool', 'int', 'number', 'duration', 'choice', 'list', 'ports', 'cidr']
/** @actions/core getters. */
export const CORE_GETTERS = ['getInput', 'getBooleanInput', 'getMultilineInput']

export interface InputRead {
  /** The literal name, or a pattern when the name is a template literal with ${...} parts. */
  name: string
  pattern?: RegExp
  file: string
  line: number
}

/**
 * Input names read in one source text. Recognised:
 *   <anything>.<reader getter>('name' | "name" | `name` | `pre-${x}-post`, ...)
 *   core.getInput / getBooleanInput / getMultilineInput('name', ...)
 *   process.env.INPUT_NAME / process.env['INPUT_NAME']  (the runner's own spelling)
 *   <getter>(ident, ...) where ident is a const/let of the same file assigned a string or
 *   template literal (`const input = \`${role}-peering-name\``)
 * A template literal with substitutions becomes a pattern (each ${...} = one or more name
 * characters), so `${side}-vnet` counts for source-vnet and target-vnet.
 * and, through helperReads below, a same-file helper that passes its parameter to a getter.
 * Not recognised (the limits): names built by concatenation ('a' + b), held in a variable of
 * another file, passed through two helper levels or across files, or read through a getter with
 * another method name. Such reads are invisible to the "read but undeclared" check; for
 * "declared but never read" a declared name that is at least a string literal in the action's
 * code is accepted and reported (mentionedOnly).
 */
export function inputReads(source: string, file: string): InputRead[] {
  const out: InputRead[] = []
  const getters = [...READER_GETTERS, ...CORE_GETTERS].join('|')
  const call = new RegExp(`\\.(?:${getters})\\(\\s*(?:'([^'\\n]*)'|"([^"\\n]*)"|\`([^\`]*)\`)`, 'g')
  const bare = new RegExp(`(?<![.\\w])(?:${CORE_GETTERS.join('|')})\\(\\s*(?:'([^'\\n]*)'|"([^"\\n]*)"|\`([^\`]*)\`)`, 'g')
  const env = /process\.env(?:\.INPUT_([A-Z0-9_]+)|\[\s*['"`]INPUT_([A-Z0-9_ -]+)['"`]\s*\])/g
  const lineOf = (i: number): number => source.slice(0, i).split('\n').length
  for (const re of [call, bare]) {
    for (const m of source.matchAll(re)) {
      const text = m[1] ?? m[2] ?? m[3] ?? ''
      if (m[3] !== undefined && m[3].includes('${')) {
        out.push({ name: m[3], pattern: toPattern(m[3]), file, line: lineOf(m.index) })
      } else {
        out.push({ name: text, file, line: lineOf(m.index) })
      }
    }
  }
  // Identifiers assigned a literal in this file, then passed to a getter.
  const consts = new Map<string, string>()
  for (const m of source.matchAll(/\b(?:const|let)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:'([^'\n]*)'|"([^"\n]*)"|`([^`]*)`)\s*[;\n]/g)) {
    consts.set(m[1], m[2] ?? m[3] ?? m[4])
  }
  const byIdent = new RegExp(`(?:\\.|(?<![.\\w]))(?:${getters})\\(\\s*([A-Za-z_$][\\w$]*)\\s*[,)]`, 'g')
  for (const m of source.matchAll(byIdent)) {
    const text = consts.get(m[1])
    if (text === undefined) continue
    out.push(text.includes('${') ? { name: text, pattern: toPattern(text), file, line: lineOf(m.index) } : { name: text, file, line: lineOf(m.index) })
  }
  for (const m of source.matchAll(env)) {
    // The runner upper-cases the name and turns spaces into '_'; '-' stays. Compare lower-case.
    out.push({ name: (m[1] ?? m[2]).toLowerCase(), file, line: lineOf(m.index), pattern: undefined })
  }
  return out
}

/** `${x}-vnet` -> /^[A-Za-z0-9_-]+-vnet$/ */
function toPattern(template: string): RegExp {
  const parts = template.split(/\$\{[^}]*\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  return new RegExp(`^${parts.join('[A-Za-z0-9_-]+')}$`)
}

/**
 * Every string literal in a source text (for "the name is at least mentioned"), read with the
 * TypeScript parser, so comments, regex literals and apostrophes cannot pair quotes wrongly.
 */
export function literalMentions(source: string): Set<string> {
  const out = new Set<string>()
  const sf = ts.createSourceFile('x.ts', source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS)
  const visit = (n: ts.Node): void => {
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) out.add(n.text)
    ts.forEachChild(n, visit)
  }
  visit(sf)
  return out
}

/**
 * Reads through a helper: a function (declaration or arrow) that passes one of its parameters as
 * the name to a getter, e.g. `const dc = (input: string) => inputs.requiredString(input, ...)`,
 * called with a literal: `dc('source-datacenter', source)`. One level deep, same file.
 */
export function helperReads(source: string, file: string): InputRead[] {
  const getters = new Set([...READER_GETTERS, ...CORE_GETTERS])
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  // helper name -> index of the parameter used as an input name
  const helpers = new Map<string, number>()
  const scan = (name: string, fn: ts.SignatureDeclaration & { body?: ts.Node }): void => {
    const params = fn.parameters.map((p) => (ts.isIdentifier(p.name) ? p.name.text : ''))
    const look = (n: ts.Node): void => {
      if (ts.isCallExpression(n)) {
        const callee = n.expression
        const method = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : ''
        const arg = n.arguments[0]
        if (getters.has(method) && arg && ts.isIdentifier(arg) && params.includes(arg.text)) helpers.set(name, params.indexOf(arg.text))
      }
      ts.forEachChild(n, look)
    }
    if (fn.body) look(fn.body)
  }
  const find = (n: ts.Node): void => {
    if (ts.isFunctionDeclaration(n) && n.name) scan(n.name.text, n)
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer && (ts.isArrowFunction(n.initializer) || ts.isFunctionExpression(n.initializer))) {
      scan(n.name.text, n.initializer)
    }
    ts.forEachChild(n, find)
  }
  find(sf)
  const out: InputRead[] = []
  const calls = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && helpers.has(n.expression.text)) {
      const arg = n.arguments[helpers.get(n.expression.text)!]
      const line = sf.getLineAndCharacterOfPosition(n.getStart()).line + 1
      if (arg && (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg))) out.push({ name: arg.text, file, line })
      else if (arg && ts.isTemplateExpression(arg)) {
        const text = arg.getText().slice(1, -1)
        out.push({ name: text, pattern: toPattern(text), file, line })
      }
    }
    ts.forEachChild(n, calls)
  }
  calls(sf)
  return out
}

/**
 * The source files an action runs: its entry points (main.ts, post.ts, index.ts) and, following
 * relative imports transitively, every file of src/ they import (src/core included only as far as
 * the action really imports it, so one action's Azure inputs are not charged to another).
 */
export function actionSources(srcDir: string): string[] {
  const start = ['index.ts', 'main.ts', 'post.ts'].map((f) => join(ROOT, srcDir, f)).filter((f) => existsSync(f))
  const seen = new Set<string>()
  const todo = [...start]
  while (todo.length) {
    const f = todo.pop()!
    if (seen.has(f) || !existsSync(f)) continue
    seen.add(f)
    const text = readFileSync(f, 'utf8')
    for (const m of text.matchAll(/(?:import|export)\s[^'"`;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2]
      const target = resolve(dirname(f), spec)
      if (target.startsWith(join(ROOT, 'src'))) todo.push(target)
    }
  }
  return [...seen].sort()
}

// ---------------------------------------------------------------------------------------------
// Workflows against the action.yml files they call

export interface UsesCheck {
  /** Mismatches, one readable line each. */
  problems: string[]
  /** Our actions a workflow calls whose action.yml does not exist (yet). */
  missing: string[]
  /** How many steps calling our actions were checked. */
  checked: number
}

/**
 * For every step that calls one of our actions: each `with:` key is an input of that action,
 * each required input without a default is given, and each `steps.<id>.outputs.<name>` the job
 * reads from that step is an output the action declares. (Limit: outputs read with the index
 * syntax steps.x.outputs['y'] or through toJSON(steps) are not seen.)
 */
export function checkUses(w: RawWorkflow, metaOf: (name: string) => ActionMetaLite | undefined = actionMetaOf): UsesCheck {
  const res: UsesCheck = { problems: [], missing: [], checked: 0 }
  for (const [job, def] of Object.entries(w.doc.jobs ?? {})) {
    const jobText = YAML.stringify(def)
    ;(def.steps ?? []).forEach((step, i) => {
      const uses = typeof step.uses === 'string' ? step.uses : undefined
      const name = uses ? ourActionOf(uses) : undefined
      if (!uses || !name) return
      const where = `${w.file} jobs.${job}.steps[${i}] (${uses})`
      const meta = metaOf(name)
      if (!meta) {
        res.missing.push(`${where}: ${ymlOf(name)} does not exist`)
        return
      }
      res.checked++
      const given = Object.keys((step.with as Record<string, unknown>) ?? {})
      const declared = Object.keys(meta.inputs)
      for (const k of given) {
        if (!declared.includes(k)) res.problems.push(`${where}: input '${k}' is not declared in ${ymlOf(name)} (declared: ${declared.join(', ') || 'none'})`)
      }
      for (const [k, def] of Object.entries(meta.inputs)) {
        if (def?.required === true && def.default === undefined && !given.includes(k)) {
          res.problems.push(`${where}: required input '${k}' of ${ymlOf(name)} is not given`)
        }
      }
      if (typeof step.id === 'string') {
        const re = new RegExp(`steps\\.${step.id.replace(/[-.]/g, '\\$&')}\\.outputs\\.([A-Za-z0-9_-]+)`, 'g')
        for (const m of jobText.matchAll(re)) {
          if (!(m[1] in meta.outputs)) {
            res.problems.push(`${w.file} jobs.${job}: reads steps.${step.id}.outputs.${m[1]}, which ${ymlOf(name)} does not declare (declared: ${Object.keys(meta.outputs).join(', ') || 'none'})`)
          }
        }
      }
    })
  }
  res.problems = unique(res.problems)
  return res
}

// ---------------------------------------------------------------------------------------------
// Action source code against its action.yml

export interface SourceCheck {
  /** Inputs the code reads that action.yml does not declare. */
  undeclared: string[]
  /** Declared inputs the code never reads. */
  unread: string[]
  /** Declared inputs not read by a recognised getter but mentioned as a string literal (accepted, reported). */
  mentionedOnly: string[]
  files: string[]
  reads: InputRead[]
}

export function checkSourceInputs(srcDir: string, declared: string[]): SourceCheck {
  const files = actionSources(srcDir)
  const reads: InputRead[] = []
  const mentions = new Set<string>()
  for (const f of files) {
    const text = readFileSync(f, 'utf8')
    reads.push(...inputReads(text, relative(ROOT, f)), ...helperReads(text, relative(ROOT, f)))
    for (const m of literalMentions(text)) mentions.add(m)
  }
  const matches = (r: InputRead, name: string): boolean => (r.pattern ? r.pattern.test(name) : r.name === name)
  const undeclared = unique(
    reads.filter((r) => !declared.some((d) => matches(r, d))).map((r) => `${r.file}:${r.line} reads '${r.name}'`)
  )
  const unread: string[] = []
  const mentionedOnly: string[] = []
  for (const d of declared) {
    if (reads.some((r) => matches(r, d))) continue
    if (mentions.has(d)) mentionedOnly.push(d)
    else unread.push(d)
  }
  return { undeclared, unread, mentionedOnly, files: files.map((f) => relative(ROOT, f)), reads }
}
