// The drill as a Mermaid chart: share per region over time (xychart-beta, one line per region,
// plus a bar for errors), with the phase boundaries named in the title.
import type { Probe } from './timing.ts'
import { sharesOverTime } from './timing.ts'

export function shareChart(probes: Probe[], regions: string[], marks: Array<{ label: string; at: number }>): string {
  if (probes.length === 0) return ''
  const from = probes[0].t
  const span = probes[probes.length - 1].t - from + 1
  const bucketMs = Math.max(1, Math.ceil(span / 30))
  // Empty buckets (the pauses while kubectl runs) would read as 0% everywhere: leave them out.
  const buckets = sharesOverTime(probes, regions, bucketMs, from).filter((b) => b.n > 0)
  const x = buckets.map((b) => (b.at / 1000).toFixed(1))
  const lines = regions.map((r) => `    line [${buckets.map((b) => Math.round(b.shares[r] * 100)).join(', ')}]`)
  const errors = `    bar [${buckets.map((b) => (b.n ? Math.round((b.errors / b.n) * 100) : 0)).join(', ')}]`
  const legend = regions.map((r, i) => `line ${i + 1} = ${r}`).join(', ')
  const when = marks.map((m) => `${m.label} at ${((m.at - from) / 1000).toFixed(1)}s`).join(', ')
  return [
    '```mermaid',
    'xychart-beta',
    `    title "Share per region (%) over time (s)${when ? `: ${when}` : ''}"`,
    `    x-axis [${x.map((v) => `"${v}"`).join(', ')}]`,
    '    y-axis "share %" 0 --> 100',
    errors,
    ...lines,
    '```',
    `<sub>${legend}; bars = errors %; buckets of ${bucketMs} ms</sub>`
  ].join('\n')
}
