// `npm run sandbox -- up|status|down|install-region [REGION] [--overrides FILE]|serve`
// up: starts the world (two region clusters, the source region's Cassandra) and prints what
// runs where and how long it took; down: stops everything (no process, no port left);
// install-region: the "hybrid runtime install" of a region from its overrides file.
import { DEFAULT_RUN_DIR } from './cassandra/cluster.ts'
import { serve } from './world.ts'
import { connectWorld, down, up } from './world-client.ts'
import { describeWorld, readWorldState, type WorldOptions } from './world-state.ts'

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name)
  if (i >= 0) return args[i + 1]
  const eq = args.find((a) => a.startsWith(`${name}=`))
  return eq ? eq.slice(name.length + 1) : undefined
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...args] = argv
  const runDir = flag(args, '--run-dir') ?? process.env.SANDBOX_RUN_DIR ?? DEFAULT_RUN_DIR
  switch (cmd) {
    case 'up': {
      const rows = flag(args, '--rows')
      const o: WorldOptions = { runDir, ...(rows ? { rowsPerTable: Number(rows) } : {}), ...(flag(args, '--org') ? { org: flag(args, '--org') } : {}) }
      const r = await up({ ...o, log: (l) => console.log(l) })
      if (r.cleaned.length) console.log(`cleaned up a previous run: ${r.cleaned.join('; ')}`)
      console.log(r.reused ? 'sandbox already up (reused)' : `sandbox up in ${(r.ms / 1000).toFixed(1)}s`)
      console.log(describeWorld(r.client.state))
      console.log(`\nexport KUBECONFIG=${r.client.state.kubeconfig}`)
      return 0
    }
    case 'status': {
      const w = connectWorld(runDir)
      if (!w) {
        const s = readWorldState(runDir)
        console.log(s ? `sandbox not running (state file says ${s.status}; run up or down)` : 'sandbox not running')
        return 1
      }
      console.log(describeWorld(await w.refresh()))
      const ring = await w.cassandra.nodetool(w.region('source').pods.length ? w.cassandra.nodes()[0].name : 'dc-1-0', ['status'], { allowFailure: true })
      console.log(`\nnodetool status:\n${ring.stdout}${ring.stderr}`)
      return 0
    }
    case 'down': {
      const t0 = Date.now()
      const done = await down(runDir)
      console.log(done.length ? done.join('\n') : 'nothing was running')
      console.log(`sandbox down in ${((Date.now() - t0) / 1000).toFixed(1)}s`)
      return 0
    }
    case 'install-region': {
      const w = connectWorld(runDir)
      if (!w) throw new Error('sandbox not running: npm run sandbox -- up')
      const region = args.find((a) => !a.startsWith('--') && a !== flag(args, '--overrides') && a !== flag(args, '--run-dir')) ?? 'target'
      const t0 = Date.now()
      const r = await w.installRegion(region, flag(args, '--overrides'))
      console.log(`installed the hybrid runtime in ${r.name} (${r.datacenter}/${r.rack}) in ${((Date.now() - t0) / 1000).toFixed(1)}s`)
      console.log(describeWorld(w.state))
      return 0
    }
    case 'serve': {
      const opts = JSON.parse(flag(args, '--options') ?? '{}') as WorldOptions
      await serve(opts)
      return -1 // keep running
    }
    default:
      console.error('usage: npm run sandbox -- up [--rows N] [--org ORG] | status | down | install-region [REGION] [--overrides FILE]   (all take --run-dir DIR)')
      return 2
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code)
  },
  (e: Error) => {
    console.error(`sandbox: ${e.message}`)
    process.exit(1)
  }
)
