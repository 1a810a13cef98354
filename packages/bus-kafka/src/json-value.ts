/**
 * Finds the first place in `value` that does not survive a JSON round trip unchanged, and says why.
 * `JSON.stringify` silently drops functions and `undefined` and turns NaN into null; for data we store and forward,
 * silence is data loss, so we refuse instead and name the path.
 */
export function findNonJson(value: unknown, path = "$", seen = new Set<object>()): string | undefined {
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
  if (value === null) return undefined;
  const object = value as object;
  if (seen.has(object)) return `${path}: circular reference`;
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length; i++) {
        const problem = findNonJson(object[i], `${path}[${i}]`, seen);
        if (problem) return problem;
      }
      return undefined;
    }
    const proto = Object.getPrototypeOf(object) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const name = (object as { constructor?: { name?: string } }).constructor?.name ?? "object";
      return `${path}: a ${name} instance is not plain JSON`;
    }
    for (const [key, child] of Object.entries(object)) {
      const problem = findNonJson(child, `${path}.${key}`, seen);
      if (problem) return problem;
    }
    return undefined;
  } finally {
    seen.delete(object);
  }
}
