// The one wrapper every action entry point goes through: any error becomes core.setFailed with
// its fix, the report is always written, secret files are always removed.
import * as core from '@actions/core'
import { describeError } from './errors.ts'
import { InputReader } from './inputs.ts'
import { Report } from './report.ts'
import { cleanupSecretFiles, redact } from './secrets.ts'

export interface ActionContext {
  inputs: InputReader
  report: Report
}

export async function runAction(name: string, body: (ctx: ActionContext) => Promise<void>): Promise<void> {
  const report = new Report(name)
  try {
    await body({ inputs: new InputReader(), report })
  } catch (err) {
    report.status = 'failed'
    report.error = redact(describeError(err))
    core.setFailed(report.error)
    if (core.isDebug() && err instanceof Error && err.stack) core.debug(redact(err.stack))
  } finally {
    cleanupSecretFiles()
    await report.finish()
  }
}
