// `npm test`: jest in two phases. Suites that start a world (Cassandra nodes, Envoy, act) run one
// at a time: they share /tmp/sandbox.lock and measure timings that a second busy core would skew.
// Every other suite (unit tests, the Kubernetes/ARM/Entra doubles) runs first on two workers, the
// machine's two cores. With arguments (`npm test -- <files>`) jest runs them as asked, in one phase.
import { spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const jest = [join(root, 'node_modules/jest/bin/jest.js')]
const run = (args: string[]): number => spawnSync(process.execPath, ['--experimental-vm-modules', ...jest, ...args], { cwd: root, stdio: 'inherit' }).status ?? 1

const args = process.argv.slice(2)
if (args.length) process.exit(run(args))

// A world suite by name (*.sandbox.test.ts, act, the demo, the Cassandra/Envoy sandbox suites),
// or by what it calls (a new suite that starts a world runs alone even before it is named so).
const BY_NAME = /\.sandbox\.test\.ts$|^__tests__\/act\/|^__tests__\/demo(-aks)?\.test\.ts$|^__tests__\/sandbox\/(cassandra|world|traffic)\.test\.ts$|^__tests__\/actions\/verify-failover\/(drill|gate|partial|precheck|split|rbac)\.test\.ts$/
const BY_CALL = /\b(lockSandbox|startMiniWorld|startSandbox|startDrill|startTrafficWorld|runAct|new Demo|new CassandraCluster)\(/

const suites = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? (e.name === 'node_modules' ? [] : suites(join(dir, e.name))) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : []))
const all = suites(join(root, '__tests__')).map((f) => relative(root, f)).sort()
const world = all.filter((f) => BY_NAME.test(f) || BY_CALL.test(readFileSync(join(root, f), 'utf8')))
const rest = all.filter((f) => !world.includes(f))

if (process.env.MR_TEST_PLAN) {
  console.log(`two workers:\n  ${rest.join('\n  ')}\none at a time:\n  ${world.join('\n  ')}`)
  process.exit(0)
}
console.log(`npm test: ${rest.length} suites on two workers, then ${world.length} world suites one at a time`)
const first = run(['--maxWorkers=2', '--runTestsByPath', ...rest])
const second = run(['--maxWorkers=1', '--runTestsByPath', ...world])
process.exit(first || second)
