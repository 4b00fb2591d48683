// Errors that carry what a platform engineer needs to fix the problem: the input or object at
// fault, the value seen, and the fix. `entry.ts` turns any of them into core.setFailed.

export class ActionError extends Error {
  readonly hint?: string
  constructor(message: string, hint?: string) {
    super(message)
    this.name = new.target.name
    this.hint = hint
  }
  /** The message with its fix, as shown to the user. */
  describe(): string {
    return this.hint ? `${this.message}\n  fix: ${this.hint}` : this.message
  }
}

/** A bad input value, raised before anything is changed. */
export class InputError extends ActionError {
  readonly input: string
  constructor(input: string, problem: string, accepted: string) {
    super(`input '${input}': ${problem}`, accepted)
    this.input = input
  }
}

/** Several input problems at once, so one run reports all of them. */
export class InputErrors extends ActionError {
  readonly errors: ActionError[]
  constructor(errors: ActionError[]) {
    super(errors.map((e) => e.describe()).join('\n'))
    this.errors = errors
  }
}

/** The world is not in a state the action may change (a preflight gate failed). */
export class PreflightError extends ActionError {}

/** A wait ran past its deadline. */
export class TimeoutError extends ActionError {}

export function describeError(err: unknown): string {
  if (err instanceof ActionError) return err.describe()
  if (err instanceof Error) return err.message
  return String(err)
}
