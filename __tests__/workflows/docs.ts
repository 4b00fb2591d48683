// The documentation layout, checkable: one README per action beside its action.yml (the root
// action's is docs/preflight.md), docs/ for the long pages, and relative links that resolve.
// Pure functions over Markdown text plus a file walk; no workflow parser, so plain Node can run
// the link check too:  node __tests__/workflows/docs.ts   (prints every broken link, exit 1 if any)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** Where an action's README lives: beside its action.yml; the root action.yml's is docs/preflight.md (the root README is the project's). */
export const docOf = (name: string): string => (name === 'preflight' ? 'docs/preflight.md' : `actions/${name}/README.md`)

/** How a workflow step names the action (the published form the READMEs show). */
export const usesOf = (name: string): string => (name === 'preflight' ? 'org/mr-actions@v1' : `org/mr-actions/actions/${name}@v1`)

/** The Markdown files of the layout: the root README, docs/*.md, and every README under actions/. */
export function markdownFiles(root = ROOT): string[] {
  const out = ['README.md']
  const docs = join(root, 'docs')
  if (existsSync(docs)) for (const f of readdirSync(docs).sort()) if (f.endsWith('.md')) out.push(`docs/${f}`)
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name === 'README.md') out.push(relative(root, p).split('\\').join('/'))
    }
  }
  if (existsSync(join(root, 'actions'))) walk(join(root, 'actions'))
  return out
}

/** Text outside fenced code blocks (links and headings inside them are not links or headings). */
export function withoutFences(md: string): string {
  let fence = false
  return md
    .split('\n')
    .map((l) => {
      if (/^\s*```/.test(l)) {
        fence = !fence
        return ''
      }
      return fence ? '' : l
    })
    .join('\n')
}

/** GitHub's heading anchor: lower case, punctuation dropped, each space a hyphen; repeats get -1, -2, ... */
export function anchorsOf(md: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const line of withoutFences(md).split('\n')) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (!m) continue
    const text = m[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    const base = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

/** Inline links [text](target) outside code blocks; external ones (scheme:) are left out. */
export function relativeLinks(md: string): string[] {
  const out: string[] = []
  const re = /\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g
  for (const m of withoutFences(md).matchAll(re)) if (!/^[a-z][a-z0-9+.-]*:/i.test(m[1])) out.push(m[1])
  return out
}

/** Every relative link of one Markdown file (path from root) that does not resolve: the file or folder, and the #anchor in a Markdown target. */
export function brokenLinks(file: string, md: string, root = ROOT): string[] {
  const bad: string[] = []
  for (const link of relativeLinks(md)) {
    const [path, anchor] = link.split('#', 2) as [string, string | undefined]
    const target = path ? resolve(root, dirname(file), decodeURIComponent(path)) : resolve(root, file)
    if (!target.startsWith(root) || !existsSync(target)) {
      bad.push(`${file}: ${link} (no such file)`)
      continue
    }
    if (anchor !== undefined && statSync(target).isFile() && target.endsWith('.md')) {
      const text = path ? readFileSync(target, 'utf8') : md
      if (!anchorsOf(text).has(anchor)) bad.push(`${file}: ${link} (no heading '#${anchor}' in ${relative(root, target)})`)
    }
  }
  return bad
}

/** The rows of the first table after the line `heading` (cells trimmed, `\|` kept as `|`); undefined without heading or table. */
export function tableAfter(md: string, heading: string): string[][] | undefined {
  const lines = withoutFences(md).split('\n')
  const at = lines.findIndex((l) => l.trim() === heading)
  if (at < 0) return undefined
  let i = at + 1
  while (i < lines.length && !lines[i].startsWith('|')) {
    if (/^#{1,6}\s/.test(lines[i])) return undefined // the next section began first
    i++
  }
  const rows: string[][] = []
  for (; i < lines.length && lines[i].startsWith('|'); i++) {
    const cells = lines[i]
      .trim()
      .replace(/^\||\|$/g, '')
      .split(/(?<!\\)\|/)
      .map((c) => c.trim().replace(/\\\|/g, '|'))
    rows.push(cells)
  }
  return rows.length >= 2 ? rows : undefined
}

const code = (cell: string): string | undefined => /^`([^`]*)`$/.exec(cell)?.[1]

export interface ActionMeta {
  inputs: Record<string, { required?: boolean; default?: unknown }>
  outputs: Record<string, unknown>
}

/**
 * Where an action's README and its action.yml disagree: the inputs table (## Inputs: input,
 * required, default, description; one row per input, the default exactly action.yml's, '' shown
 * as `''`, none as an empty cell), the outputs table (## Outputs), the usage example and the
 * permissions section. Empty = in step.
 */
export function docDrift(md: string, meta: ActionMeta, uses: string): string[] {
  const errs: string[] = []
  if (!md.includes(`uses: ${uses}`)) errs.push(`no usage example with 'uses: ${uses}'`)
  if (!/^## Permissions\s*$/m.test(md)) errs.push("no '## Permissions' section")
  const inputs = tableAfter(md, '## Inputs')
  if (!inputs) errs.push("no table under '## Inputs'")
  else {
    const head = inputs[0].map((c) => c.toLowerCase())
    if (head.slice(0, 3).join(',') !== 'input,required,default') errs.push(`inputs table header is '${inputs[0].join(' | ')}', not 'input | required | default | description'`)
    const seen = new Set<string>()
    for (const row of inputs.slice(2)) {
      const name = code(row[0])
      if (!name) {
        errs.push(`inputs table: '${row[0]}' is not one input in backticks`)
        continue
      }
      if (seen.has(name)) errs.push(`input '${name}' is listed twice`)
      seen.add(name)
      const decl = meta.inputs[name]
      if (!decl) {
        errs.push(`input '${name}' is documented but not declared in action.yml`)
        continue
      }
      const required = decl.required === true ? 'yes' : 'no'
      if (row[1] !== required) errs.push(`input '${name}': required is '${row[1]}' in the README, '${required}' in action.yml`)
      const want = decl.default === undefined ? '' : decl.default === '' ? "`''`" : `\`${String(decl.default)}\``
      if (row[2] !== want) errs.push(`input '${name}': default is '${row[2]}' in the README, '${want}' in action.yml`)
      if (!row[3]) errs.push(`input '${name}' has no description`)
    }
    for (const name of Object.keys(meta.inputs)) if (!seen.has(name)) errs.push(`input '${name}' is declared in action.yml but not documented`)
  }
  const outputs = tableAfter(md, '## Outputs')
  if (!outputs) errs.push("no table under '## Outputs'")
  else {
    const seen = new Set<string>()
    for (const row of outputs.slice(2)) {
      const name = code(row[0])
      if (!name) errs.push(`outputs table: '${row[0]}' is not one output in backticks`)
      else {
        if (!(name in meta.outputs)) errs.push(`output '${name}' is documented but not declared in action.yml`)
        seen.add(name)
      }
    }
    for (const name of Object.keys(meta.outputs)) if (!seen.has(name)) errs.push(`output '${name}' is declared in action.yml but not documented`)
  }
  return errs
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const files = markdownFiles()
  const bad = files.flatMap((f) => brokenLinks(f, readFileSync(join(ROOT, f), 'utf8')))
  const links = files.reduce((n, f) => n + relativeLinks(readFileSync(join(ROOT, f), 'utf8')).length, 0)
  for (const b of bad) console.log(b)
  console.log(`${files.length} Markdown files, ${links} relative links, ${bad.length} broken`)
  process.exit(bad.length ? 1 : 0)
}
