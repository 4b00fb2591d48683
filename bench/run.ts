// `npm run bench [--cassandra V1,V2] [name ...]`: runs the benchmarks one after another (each prints
// the ratios it measured in one run). Names: coldstart sprt expand rebuild failover promotion; no name runs all of them.
// --cassandra runs the benchmarks that start Cassandra (expand, rebuild, promotion) once per version
// (CASSANDRA_VERSION, e.g. 4.1,5.0) and ends with one table of their P lines side by side, so both
// versions' figures come from one run. They are not tests: nothing here passes or fails on a number.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { cassandraRuntime } from '../sandbox/cassandra/version.ts'

const all = ['coldstart', 'sprt', 'expand', 'rebuild', 'failover', 'promotion']
const onCassandra = new Set(['expand', 'rebuild', 'promotion'])
const args = process.argv.slice(2)
const at = args.indexOf('--cassandra')
const asked = at >= 0 ? (args.splice(at, 2)[1] ?? '').split(',').filter(Boolean) : []
if (at >= 0 && !asked.length) {
  console.error('--cassandra needs a list of versions, e.g. --cassandra 4.1,5.0')
  process.exit(2)
}
let versions: string[] = []
try {
  versions = asked.map((v) => cassandraRuntime(v).version) // a line such as 4.1 -> 4.1.10
} catch (e) {
  console.error(`--cassandra: ${(e as Error).message}`)
  process.exit(2)
}
const unknown = args.filter((n) => !all.includes(n))
if (unknown.length) {
  console.error(`unknown benchmark(s) ${unknown.join(', ')}: choose from ${all.join(', ')}`)
  process.exit(2)
}

/** Runs one benchmark with its output passed through; resolves to its exit code and its `P<n> ...` lines. */
function bench(name: string, env: NodeJS.ProcessEnv): Promise<{ code: number; lines: string[] }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, `${name}.ts`)], { env, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      process.stdout.write(d)
      out += d.toString()
    })
    child.on('close', (code) => done({ code: code ?? 1, lines: out.split('\n').filter((l) => /^P\d+ /.test(l)) }))
  })
}

let failed = 0
const figures: { version: string; line: string }[] = []
for (const name of args.length ? args : all) {
  for (const version of onCassandra.has(name) && versions.length ? versions : ['']) {
    console.log(`\n=== bench/${name}.ts${version ? ` on Cassandra ${version}` : ''}`)
    const r = await bench(name, version ? { ...process.env, CASSANDRA_VERSION: version } : process.env)
    if (r.code !== 0) failed++
    if (version) figures.push(...r.lines.map((line) => ({ version, line })))
  }
}
if (versions.length) {
  console.log(`\n=== Cassandra ${versions.join(' vs ')}, measured in this run`)
  for (const v of versions) for (const f of figures.filter((x) => x.version === v)) console.log(`${v.padEnd(7)} ${f.line}`)
}
process.exit(failed ? 1 : 0)
