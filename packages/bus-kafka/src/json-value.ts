/**
 * Deepest nesting accepted in a value we serialize (envelope content, agent config, a callback's result). Real
 * data is far shallower; the bound keeps `JSON.stringify` and Postgres's jsonb parser (both recursive) from
 * overflowing their stacks on hostile input.
 */
export const MAX_JSON_DEPTH = 256;

/**
 * Finds the first place in `value` that does not survive a JSON round trip unchanged, and says why.
 * `JSON.stringify` silently drops functions and `undefined` and turns NaN into null; for data we store and forward,
 * silence is data loss, so we refuse instead and name the path. Containers nested deeper than `maxDepth` are
 * refused too. Iterative: no input depth can overflow the stack.
 */
export function findNonJson(value: unknown, path = "$", maxDepth = MAX_JSON_DEPTH): string | undefined {
  // Objects on the path from the root to the current node: a cycle is a node that is its own ancestor.
  const ancestors = new Set<object>();
  type Step = { value: unknown; path: string; depth: number } | { leave: object };
  const steps: Step[] = [{ value, path, depth: 0 }];
  for (let step = steps.pop(); step !== undefined; step = steps.pop()) {
    if ("leave" in step) {
      ancestors.delete(step.leave);
      continue;
    }
    const problem = primitiveProblem(step.value, step.path);
    if (problem !== null) {
      if (problem !== undefined) return problem;
      continue;
    }
    const object = step.value as object;
    if (ancestors.has(object)) return `${step.path}: circular reference`;
    if (step.depth >= maxDepth) return `${step.path}: nested deeper than ${maxDepth} levels`;
    let children: Array<[string, unknown]>;
    if (Array.isArray(object)) {
      children = object.map((child, i) => [`${step.path}[${i}]`, child]);
    } else {
      const proto = Object.getPrototypeOf(object) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        const name = (object as { constructor?: { name?: string } }).constructor?.name ?? "object";
        return `${step.path}: a ${name} instance is not plain JSON`;
      }
      children = Object.entries(object).map(([key, child]) => [`${step.path}.${key}`, child]);
    }
    ancestors.add(object);
    steps.push({ leave: object });
    // Reversed, so children are checked in order and the first problem found is the first in the document.
    for (let i = children.length - 1; i >= 0; i--) {
      const [childPath, child] = children[i] as [string, unknown];
      steps.push({ value: child, path: childPath, depth: step.depth + 1 });
    }
  }
  return undefined;
}

/** A problem with a non-container value, `undefined` when it is fine, `null` when it is a container to descend. */
function primitiveProblem(value: unknown, path: string): string | undefined | null {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : `${path}: ${String(value)} is not a JSON number`;
    case "undefined":
      return `${path}: undefined is not JSON`;
    case "bigint":
    case "function":
    case "symbol":
      return `${path}: a ${typeof value} is not JSON`;
  }
  return value === null ? undefined : null;
}
