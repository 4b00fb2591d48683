// `npm run bench [name ...]`: runs the benchmarks one after another (each prints the ratios it
// measured in one run). Names: coldstart sprt expand rebuild failover; no name runs all of them.
// They are not tests: nothing here passes or fails on a number.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

const all = ['coldstart', 'sprt', 'expand', 'rebuild', 'failover']
const wanted = process.argv.slice(2)
const unknown = wanted.filter((n) => !all.includes(n))
if (unknown.length) {
  console.error(`unknown benchmark(s) ${unknown.join(', ')}: choose from ${all.join(', ')}`)
  process.exit(2)
}
let failed = 0
for (const name of wanted.length ? wanted : all) {
  console.log(`\n=== bench/${name}.ts`)
  const r = spawnSync(process.execPath, [join(import.meta.dirname, `${name}.ts`)], { stdio: 'inherit' })
  if (r.status !== 0) failed++
}
process.exit(failed ? 1 : 0)
