// `npm run demo`: the sandbox up, every stage of promote-region.yml through the bundled actions
// exactly as the runner invokes them, a DR drill, readable summaries (terminal, demo-output/*.md,
// demo-output/index.html), the sandbox down - also on failure and on Ctrl-C.
//   npm run demo -- [--verbose] [--no-color] [--fault-duration 10s] [--rows N]
//   MR_KUBE_MODE=aks npm run demo -- [--token-lifetime 60]   the clusters as AKS with Entra ID:
//     no kubeconfig, kubeconfigs from ARM, the real kubelogin, Entra tokens living 60 s (GitHub ID
//     tokens as long), the RBAC of docs/rbac
//   npm run demo -- --no-drill                                 the promotion only
import { Demo } from './demo/core.ts'

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}

const demo = new Demo({
  verbose: args.includes('--verbose'),
  color: !args.includes('--no-color') && process.stdout.isTTY === true && !process.env.NO_COLOR,
  faultDuration: flag('--fault-duration'),
  rowsPerTable: flag('--rows') ? Number(flag('--rows')) : undefined,
  mode: process.env.MR_KUBE_MODE === 'aks' ? 'aks' : 'kubeconfig',
  aks: flag('--token-lifetime') ? { tokenLifetimeSec: Number(flag('--token-lifetime')), idTokenLifetimeSec: Number(flag('--token-lifetime')) } : undefined,
  drill: !args.includes('--no-drill')
})

let interrupted = false
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (interrupted) return
    interrupted = true
    process.stdout.write(`\n${sig}: tearing the sandbox down...\n`)
    demo.teardown().then(
      (done) => {
        process.stdout.write(`${done.join('\n')}\nsandbox down; no process left behind\n`)
        process.exit(130)
      },
      (e: Error) => {
        process.stderr.write(`teardown failed: ${e.message}\n`)
        process.exit(130)
      }
    )
  })
}

const result = await demo.run()
process.exit(result.ok ? 0 : 1)
