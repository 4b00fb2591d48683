// Root action: preflight of a whole promotion. Reads the topology, changes nothing.
import * as core from '@actions/core'
import { runAction } from '../../core/entry.ts'
import { loadTopology } from '../../core/topology.ts'

export async function run(): Promise<void> {
  await runAction('preflight', async ({ inputs, report }) => {
    const path = inputs.requiredString('topology')
    inputs.done()
    const topo = loadTopology(path)
    core.info(`topology ${path}: regions ${Object.keys(topo.regions).join(', ')}`)
    report.output('regions', Object.keys(topo.regions).join(','))
  })
}
