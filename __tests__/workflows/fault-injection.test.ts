// The workflows that inject faults: one concurrency group for all of them, a reusable
// failover-test that runs when a scheduled caller calls it, and only fault modes its inputs can
// satisfy (checked by verify-failover's own input reading).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import YAML from 'yaml'
import { readPlan } from '../../src/core/failover/plan.ts'
import { InputReader } from '../../src/core/inputs.ts'
import { parseTopology } from '../../src/core/topology.ts'
import { ROOT } from './validate.ts'

const wf = (name: string): any => YAML.parse(readFileSync(join(ROOT, '.github/workflows', name), 'utf8')) // eslint-disable-line @typescript-eslint/no-explicit-any

describe('fault-injecting workflows', () => {
  test('promote-region verify, dr-drill and failover-test share the mr-actions-fault-injection group', () => {
    expect(wf('promote-region.yml').jobs.verify.concurrency).toEqual({ group: 'mr-actions-fault-injection', 'cancel-in-progress': false })
    expect(wf('dr-drill.yml').concurrency.group).toBe('mr-actions-fault-injection')
    expect(wf('failover-test.yml').concurrency.group).toBe('mr-actions-fault-injection')
  })

  test("failover-test's job runs for a scheduled caller (event 'schedule', topology input set)", () => {
    const cond = String(wf('failover-test.yml').jobs.test.if)
    expect(cond).not.toMatch(/event_name/)
    expect(cond).toMatch(/inputs\.topology != ''/)
  })

  test("every fault-mode choice of failover-test passes verify-failover's input checks with what the workflow passes", () => {
    const options = wf('failover-test.yml').on.workflow_dispatch.inputs['fault-mode'].options as string[]
    const topo = parseTopology('regions:\n  eastus:\n    kube: { context: aks-eastus }\n    service: { deployment: hello, namespace: apigee }\n    ingress: { url: "https://api.example.com/", json: "region=eastus" }\n  westeurope:\n    ingress: { header: "x-region: westeurope" }\n')
    for (const mode of options) {
      const values: Record<string, string> = { weights: 'eastus=50,westeurope=50', 'fault-region': 'eastus', 'fault-mode': mode }
      expect({ mode, plan: (() => readPlan(new InputReader((n: string) => values[n] ?? ''), topo)?.fault.mode)() }).toEqual({ mode, plan: mode })
    }
  })
})
