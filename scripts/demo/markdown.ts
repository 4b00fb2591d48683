// Job summaries (GitHub-flavoured Markdown) for the terminal and for one HTML page. The terminal
// rendering walks marked's tokens: headings underlined, tables aligned in columns, lists
// bulleted, code indented, Mermaid diagrams named (the HTML page draws them).
import { copyFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { marked, type Token, type Tokens } from 'marked'

const ESC = '\u001b['
export interface Style {
  color: boolean
}
const paint = (s: Style, code: string, text: string): string => (s.color ? `${ESC}${code}m${text}${ESC}0m` : text)
export const bold = (s: Style, t: string): string => paint(s, '1', t)
export const dim = (s: Style, t: string): string => paint(s, '2', t)
export const green = (s: Style, t: string): string => paint(s, '32', t)
export const red = (s: Style, t: string): string => paint(s, '31', t)
export const cyan = (s: Style, t: string): string => paint(s, '36', t)

/** Visible width (ANSI colour codes do not count). */
export function width(text: string): number {
  // eslint-disable-next-line no-control-regex
  return [...text.replace(/\u001b\[[0-9;]*m/g, '')].length
}

function decode(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
}

function inline(tokens: Token[] | undefined, s: Style, fallback = ''): string {
  if (!tokens) return decode(fallback)
  return tokens
    .map((t) => {
      switch (t.type) {
        case 'strong':
          return bold(s, inline((t as Tokens.Strong).tokens, s))
        case 'em':
        case 'del':
          return inline((t as Tokens.Em).tokens, s)
        case 'codespan':
          return cyan(s, decode((t as Tokens.Codespan).text))
        case 'link': {
          const l = t as Tokens.Link
          const text = inline(l.tokens, s)
          return l.href && l.href !== text ? `${text} (${l.href})` : text
        }
        case 'br':
          return '\n'
        case 'html':
          return decode((t as Tokens.HTML).text.replace(/<[^>]+>/g, ''))
        case 'text':
        case 'escape':
          return 'tokens' in t && t.tokens ? inline(t.tokens as Token[], s) : decode((t as Tokens.Text).text)
        default:
          return 'text' in t ? decode(String(t.text)) : ''
      }
    })
    .join('')
}

function pad(text: string, w: number, align: 'left' | 'right' | 'center' | null): string {
  const gap = w - width(text)
  if (gap <= 0) return text
  if (align === 'right') return ' '.repeat(gap) + text
  if (align === 'center') return ' '.repeat(Math.floor(gap / 2)) + text + ' '.repeat(Math.ceil(gap / 2))
  return text + ' '.repeat(gap)
}

/** An aligned text table: header, a rule, rows. */
export function textTable(header: string[], rows: string[][], s: Style, align: Array<'left' | 'right' | 'center' | null> = []): string[] {
  const cols = header.length
  const widths = header.map((h, i) => Math.min(60, Math.max(width(h), ...rows.map((r) => width(r[i] ?? '')))))
  const line = (cells: string[]): string => cells.map((c, i) => pad(c ?? '', widths[i], align[i] ?? null)).join('  ').trimEnd()
  return [bold(s, line(header)), dim(s, widths.map((w) => '─'.repeat(w)).join('  ')), ...rows.map((r) => line(r.slice(0, cols)))]
}

function wrap(text: string, indent: string, max: number): string[] {
  const out: string[] = []
  for (const para of text.split('\n')) {
    let line = ''
    for (const word of para.split(/ +/)) {
      if (line && width(line) + 1 + width(word) > max) {
        out.push(indent + line)
        line = word
      } else line = line ? `${line} ${word}` : word
    }
    out.push(indent + line)
  }
  return out
}

function block(tokens: Token[], s: Style, indent: string, cols: number): string[] {
  const out: string[] = []
  for (const t of tokens) {
    switch (t.type) {
      case 'heading': {
        const h = t as Tokens.Heading
        const text = inline(h.tokens, s, h.text)
        out.push('', indent + bold(s, text))
        if (h.depth <= 2) out.push(indent + dim(s, (h.depth === 1 ? '═' : '─').repeat(Math.min(cols, width(text)))))
        break
      }
      case 'paragraph':
        out.push(...wrap(inline((t as Tokens.Paragraph).tokens, s, (t as Tokens.Paragraph).text), indent, cols))
        break
      case 'table': {
        const tb = t as Tokens.Table
        out.push(...textTable(tb.header.map((c) => inline(c.tokens, s, c.text)), tb.rows.map((r) => r.map((c) => inline(c.tokens, s, c.text))), s, tb.align).map((l) => indent + l))
        break
      }
      case 'list': {
        const l = t as Tokens.List
        l.items.forEach((item, i) => {
          const bullet = l.ordered ? `${Number(l.start || 1) + i}. ` : '• '
          const inner = block(item.tokens, s, '', cols - bullet.length).filter((x) => x !== '')
          inner.forEach((x, j) => out.push(indent + (j === 0 ? bullet : ' '.repeat(bullet.length)) + x))
        })
        break
      }
      case 'code': {
        const c = t as Tokens.Code
        if (c.lang === 'mermaid') {
          const kind = c.text.trim().split(/\s/)[0]
          out.push(indent + dim(s, `[Mermaid ${kind} diagram: drawn in the HTML page]`))
        } else out.push(...c.text.split('\n').map((x) => `${indent}    ${dim(s, x)}`))
        break
      }
      case 'blockquote':
        out.push(...block((t as Tokens.Blockquote).tokens, s, `${indent}│ `, cols - 2))
        break
      case 'hr':
        out.push(indent + dim(s, '─'.repeat(Math.min(cols, 40))))
        break
      case 'html': {
        // <details><summary>..</summary> and friends: keep the text, drop the tags.
        const text = decode((t as Tokens.HTML).text.replace(/<[^>]+>/g, ' ').replace(/[ \t]+/g, ' ').trim())
        if (text) out.push(indent + text)
        break
      }
      case 'space':
        out.push('')
        break
      default:
        if ('tokens' in t && Array.isArray(t.tokens)) out.push(...wrap(inline(t.tokens as Token[], s), indent, cols))
        else if ('text' in t) out.push(...wrap(decode(String(t.text)), indent, cols))
    }
  }
  return out
}

/** Markdown -> plain text for a terminal (colour when `color`). */
export function renderTerminal(markdown: string, o: { color?: boolean; indent?: string; cols?: number } = {}): string {
  const s: Style = { color: o.color ?? false }
  const lines = block(marked.lexer(markdown), s, o.indent ?? '', o.cols ?? 100)
  // collapse runs of blank lines
  const out: string[] = []
  for (const l of lines) if (!(l.trim() === '' && (out.length === 0 || out[out.length - 1].trim() === ''))) out.push(l.trimEnd())
  while (out.length && out[out.length - 1] === '') out.pop()
  const blank = (o.indent ?? '').trimEnd()
  return out.map((l) => (l === '' ? blank : l)).join('\n')
}

export interface HtmlSection {
  id: string
  title: string
  result: string
  duration: string
  markdown: string
}

const escapeHtml = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** Mermaid's one-file browser build, served from beside the page: the page needs no network
 *  (a CDN would leave the diagrams as code offline), and a classic script loads from file://,
 *  where Chromium refuses module scripts. */
export const MERMAID_FILE = 'mermaid.min.js'

/** Writes the page and, next to it, the Mermaid it loads (from the `mermaid` devDependency). */
export function writeHtmlPage(path: string, html: string): void {
  writeFileSync(path, html)
  copyFileSync(createRequire(import.meta.url).resolve(`mermaid/dist/${MERMAID_FILE}`), join(dirname(path), MERMAID_FILE))
}

/** One page: the overview table, then every stage's summary. Mermaid blocks become diagrams. */
export function renderHtml(title: string, intro: string, sections: HtmlSection[]): string {
  const renderer = new marked.Renderer()
  const code = renderer.code.bind(renderer)
  renderer.code = (t: Tokens.Code) => (t.lang === 'mermaid' ? `<pre class="mermaid">${escapeHtml(t.text)}</pre>\n` : code(t))
  const md = (text: string): string => marked.parse(text, { async: false, gfm: true, renderer }) as string
  const rows = sections
    .map((s) => `<tr><td><a href="#${s.id}">${escapeHtml(s.title)}</a></td><td class="${s.result}">${escapeHtml(s.result)}</td><td class="num">${escapeHtml(s.duration)}</td></tr>`)
    .join('\n')
  const body = sections
    .map((s) => `<section id="${s.id}">\n<h2>${escapeHtml(s.title)} <small class="${s.result}">${escapeHtml(s.result)}, ${escapeHtml(s.duration)}</small></h2>\n${md(s.markdown)}\n</section>`)
    .join('\n')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #1f2328; }
table { border-collapse: collapse; margin: 0.8em 0; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: left; }
th { background: #f6f8fa; }
td.num { text-align: right; }
pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; }
code { background: #f6f8fa; padding: 0 3px; }
section { border-top: 2px solid #d0d7de; margin-top: 2em; }
.success { color: #1a7f37; } .failure { color: #cf222e; } .skipped { color: #6e7781; }
</style>
<script src="${MERMAID_FILE}"></script>
<script>mermaid.initialize({ startOnLoad: true })</script>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${md(intro)}
<table><thead><tr><th>stage</th><th>result</th><th>duration</th></tr></thead><tbody>
${rows}
</tbody></table>
${body}
</body>
</html>
`
}
