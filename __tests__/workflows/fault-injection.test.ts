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

  const step = (file: string, job: string, id: string) => (wf(file).jobs[job].steps as Array<{ id?: string; with: Record<string, string> }>).find((x) => x.id === id)!
  test('dr-drill and failover-test pass their chaos-action input through to verify-failover (dispatch and call, default abort)', () => {
    const drill = wf('dr-drill.yml').on.workflow_dispatch.inputs['chaos-action']
    expect(drill).toMatchObject({ type: 'string', default: 'abort' })
    expect(step('dr-drill.yml', 'drill', 'drill').with['chaos-action']).toBe('${{ inputs.chaos-action }}')
    const ft = wf('failover-test.yml').on
    expect(ft.workflow_dispatch.inputs['chaos-action']).toMatchObject({ type: 'string', default: 'abort' })
    expect(ft.workflow_call.inputs['chaos-action']).toMatchObject({ type: 'string', default: 'abort' })
    // a scheduled run has no inputs: the expression falls back to the action's default
    expect(step('failover-test.yml', 'test', 'verify').with['chaos-action']).toBe("${{ inputs.chaos-action || 'abort' }}")
  })

  test("dr-drill's fault modes with the default chaos-action, and http-chaos with a 5xx code, pass verify-failover's input checks", () => {
    const options = wf('dr-drill.yml').on.workflow_dispatch.inputs['fault-mode'].options as string[]
    const topo = parseTopology('regions:\n  eastus:\n    kube: { context: aks-eastus }\n    service: { deployment: hello, namespace: apigee }\n    ingress: { url: "https://api.example.com/", json: "region=eastus" }\n  westeurope:\n    ingress: { header: "x-region: westeurope" }\n')
    const plan = (v: Record<string, string>) => readPlan(new InputReader((n: string) => ({ weights: 'eastus=50,westeurope=50', 'fault-region': 'eastus', 'chaos-action': 'abort', ...v })[n] ?? ''), topo)!
    for (const mode of options) {
      const command: Record<string, string> = mode === 'command' ? { 'fault-command': 'true', 'restore-command': 'true' } : {}
      expect({ mode, planned: plan({ 'fault-mode': mode, ...command }).fault.mode }).toEqual({ mode, planned: mode })
    }
    expect(plan({ 'fault-mode': 'http-chaos', 'chaos-action': '503' }).fault.chaos?.action).toBe(503)
  })
})
