// The demo's HTML page in a real browser, offline: headless Chromium from Debian (npm run setup,
// scripts/setup.d/chromium.sh) opens a page built from saved job summaries, with every request
// that would leave the machine refused, and every Mermaid diagram must have become an SVG.
// Without the Mermaid copy beside the page the same diagrams stay code: the check can fail.
import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ROOT } from '../sandbox/runner.ts'
import { MERMAID_FILE, renderHtml, writeHtmlPage } from '../scripts/demo/markdown.ts'

// Debian's chromium (npm run setup); GitHub's hosted Ubuntu runners ship Google Chrome, the same
// engine with the same headless switches; MR_CHROMIUM names another build
const CHROMIUM = [process.env.MR_CHROMIUM ?? '', '/usr/bin/chromium', '/usr/bin/google-chrome'].find((p) => p !== '' && existsSync(p)) ?? '/usr/bin/chromium'
const have = existsSync(CHROMIUM)
const d = have ? describe : describe.skip
if (!have) it('chromium is installed (npm run setup: scripts/setup.d/chromium.sh)', () => expect(have).toBe(true))

const summary = (name: string): string => readFileSync(join(ROOT, '__tests__/fixtures/demo', name), 'utf8')
const sections = [
  { id: 'promote-region-preflight', title: 'promote-region › preflight', result: 'success', duration: '3.1s', markdown: summary('preflight.md') },
  { id: 'dr-drill-drill', title: 'dr-drill › drill', result: 'success', duration: '41.0s', markdown: summary('drill.md') }
]
const diagrams = sections.reduce((n, s) => n + (s.markdown.match(/```mermaid/g) ?? []).length, 0)

/** The DOM after the page's scripts ran (virtual time lets Mermaid's asynchronous rendering finish). */
function renderedDom(page: string): string {
  const profile = mkdtempSync(join(tmpdir(), 'mr-chromium-'))
  try {
    return execFileSync(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        `--user-data-dir=${profile}`,
        // the network off: no name resolves and every proxied request goes to a closed port
        '--host-resolver-rules=MAP * ~NOTFOUND',
        '--proxy-server=http://127.0.0.1:9',
        '--virtual-time-budget=30000',
        '--dump-dom',
        pathToFileURL(page).href
      ],
      { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] }
    )
  } finally {
    rmSync(profile, { recursive: true, force: true })
  }
}

/** Per <pre class="mermaid">: whether it now holds an SVG (Mermaid replaces the code with it). */
function mermaidBlocks(dom: string): { svg: boolean; text: string }[] {
  return [...dom.matchAll(/<pre class="mermaid"[^>]*>([\s\S]*?)<\/pre>/g)].map((m) => ({ svg: /^\s*<svg[\s>]/.test(m[1]), text: m[1] }))
}

d('the demo page renders offline in headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mr-demo-page-'))
  const page = join(dir, 'index.html')
  writeHtmlPage(page, renderHtml('mr-actions demo', 'Saved summaries of a demo run.', sections))

  it('loads nothing from the network: Mermaid is the copy beside the page', () => {
    const html = readFileSync(page, 'utf8')
    expect(html).toContain(`<script src="${MERMAID_FILE}"></script>`)
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)="(https?:)?\/\//)
    expect(existsSync(join(dir, MERMAID_FILE))).toBe(true)
  })

  it('every diagram became an SVG', () => {
    expect(diagrams).toBe(2)
    const blocks = mermaidBlocks(renderedDom(page))
    expect(blocks).toHaveLength(diagrams)
    expect(blocks.filter((b) => !b.svg).map((b) => b.text.slice(0, 80))).toEqual([])
    // drawn, not Mermaid's "Syntax error" picture: the labels of each diagram are in its SVG
    expect(blocks.map((b) => /Syntax error/i.test(b.text))).toEqual([false, false])
    expect(blocks[0].text).toMatch(/rebuild streams dc-1 to dc-2/)
    expect(blocks[1].text).toMatch(/Share per region/)
  }, 180_000)

  it('without that copy the diagrams stay code (what a CDN gives offline)', () => {
    rmSync(join(dir, MERMAID_FILE))
    const blocks = mermaidBlocks(renderedDom(page))
    expect(blocks).toHaveLength(diagrams)
    expect(blocks.every((b) => !b.svg && /^\s*(flowchart|xychart)/.test(b.text))).toBe(true)
    rmSync(dir, { recursive: true, force: true })
  }, 180_000)
})
