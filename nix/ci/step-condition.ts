/**
 * GitHub Actions step and job conditions (`if:`), read the way the runner reads them: GitHub puts
 * success() && before a condition that names no status function, and the status functions stand for
 * how the job went so far. Shared by every check that asks whether a workflow step runs.
 */
export type Truth = boolean | 'unknown';

/** The status functions as they stand once an earlier step of the job failed (not cancelled). */
const afterFailure: Record<string, boolean> = { 'success()': false, 'failure()': true, 'always()': true, 'cancelled()': false };

/**
 * Evaluates a step condition with !, &&, || and parentheses, three-valued: each term as `term` reads
 * it (the status functions for how the job went, a comparison or a context value often unknown). Throws on a shape it
 * cannot read, so a condition is never judged by a misreading.
 */
function evaluate(expression: string, term: (text: string) => Truth): Truth {
  const tokens = expression.match(/&&|\|\||!(?!=)|\(|\)|(?:[^&|!()\s]|!=)+(?:\(\))?/g) ?? [];
  let at = 0;
  const not = (t: Truth): Truth => (t === 'unknown' ? t : !t);
  const and = (a: Truth, b: Truth): Truth => (a === false || b === false ? false : a === true && b === true ? true : 'unknown');
  const or = (a: Truth, b: Truth): Truth => (a === true || b === true ? true : a === false && b === false ? false : 'unknown');
  const primary = (): Truth => {
    const token = tokens[at++];
    if (token === undefined) throw new Error(`the condition "${expression}" ends too early`);
    if (token === '!') return not(primary());
    if (token === '(') {
      const inner = disjunction();
      if (tokens[at++] !== ')') throw new Error(`the condition "${expression}" has an unclosed parenthesis`);
      return inner;
    }
    if (/^[\w.]+\(\)$/.test(token)) return term(token);
    // A comparison reads as one term of several tokens (a == 'b'): take them up to the next operator.
    const start = at - 1;
    while (tokens[at] !== undefined && !['&&', '||', ')'].includes(tokens[at] as string)) at += 1;
    return term(tokens.slice(start, at).join(' '));
  };
  const conjunction = (): Truth => {
    let value = primary();
    while (tokens[at] === '&&') {
      at += 1;
      value = and(value, primary());
    }
    return value;
  };
  const disjunction = (): Truth => {
    let value = conjunction();
    while (tokens[at] === '||') {
      at += 1;
      value = or(value, conjunction());
    }
    return value;
  };
  const value = disjunction();
  if (at !== tokens.length) throw new Error(`the condition "${expression}" has more after its end: ${tokens.slice(at).join(' ')}`);
  return value;
}

/**
 * Whether a step's condition can run it after an earlier step of the job failed. GitHub puts
 * success() && before a condition that names no status function (and uses success() when there is
 * none), which skips the step; otherwise the condition decides, with terms this cannot know taken as
 * "may run".
 */
export function runsAfterFailure(condition: string | undefined): boolean {
  return mayRun(condition, afterFailure);
}

/** The status functions as they stand while every earlier step of the job succeeded. */
const whileSucceeding: Record<string, boolean> = { 'success()': true, 'failure()': false, 'always()': true, 'cancelled()': false };

/** Whether a step's condition can run it when every earlier step succeeded (no if: means it runs). */
export function runsAfterSuccess(condition: string | undefined): boolean {
  return condition === undefined || mayRun(condition, whileSucceeding);
}

function mayRun(condition: string | undefined, status: Record<string, boolean>): boolean {
  if (condition === undefined) return false;
  const expression = unwrap(condition);
  const namesStatus = /\b(success|failure|always|cancelled)\(\)/.test(expression);
  const term = (text: string): Truth => (text in status ? (status[text] as boolean) : 'unknown');
  return evaluate(namesStatus ? expression : `success() && (${expression})`, term) !== false;
}

/** The condition's expression without its `${{ }}` wrapper. */
function unwrap(condition: string): string {
  return condition.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1').trim();
}

/**
 * A job's `if:` for a run started by `event`, its needs all succeeded: true when it certainly runs,
 * false when it certainly does not, 'unknown' when it turns on something else (a context value).
 * Reads the status functions and comparisons of github.event_name with a string.
 */
export function jobRunsFor(condition: string | boolean | undefined, event: string): Truth {
  if (condition === undefined || condition === true) return true;
  if (condition === false) return false;
  const statusBeforeAnyFailure: Record<string, boolean> = { 'success()': true, 'always()': true, 'failure()': false, 'cancelled()': false };
  const term = (text: string): Truth => {
    if (text in statusBeforeAnyFailure) return statusBeforeAnyFailure[text] as boolean;
    if (text === 'true' || text === 'false') return text === 'true';
    const comparison = /^(?:github\.event_name (==|!=) '([^']*)'|'([^']*)' (==|!=) github\.event_name)$/.exec(text);
    if (!comparison) return 'unknown';
    const operator = comparison[1] ?? comparison[4];
    const named = comparison[2] ?? comparison[3];
    return (named === event) === (operator === '==');
  };
  const expression = unwrap(String(condition));
  const namesStatus = /\b(success|failure|always|cancelled)\(\)/.test(expression);
  return evaluate(namesStatus ? expression : `success() && (${expression})`, term);
}
