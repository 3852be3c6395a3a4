/**
 * Decodes an EC2 Query request body (`Action=...&Filter.1.Name=tag%3Aa&Filter.1.Value.1=b`) into
 * nested values, generically: a dotted key is a path, and a numeric segment is a 1-based list index
 * (EC2 flattens every list that way, whatever the member is called). Handlers then read
 * `params.Filter` as an array of `{ Name, Value: [...] }` without knowing about the flattening.
 */
export type QueryValue = string | QueryValue[] | QueryStruct;
export interface QueryStruct {
  [name: string]: QueryValue;
}

export class QueryParseError extends Error {
  readonly key: string;
  constructor(key: string, reason: string) {
    super(`query parameter ${key}: ${reason}`);
    this.name = "QueryParseError";
    this.key = key;
  }
}

/** Intermediate tree: every node is a record until lists are recognised at the end. */
interface Node {
  value?: string;
  children: Map<string, Node>;
}

export function parseQuery(body: string): QueryStruct {
  const root: Node = { children: new Map() };
  for (const [key, value] of new URLSearchParams(body)) {
    const segments = key.split(".");
    if (segments.some((segment) => segment === "")) throw new QueryParseError(key, "empty path segment");
    let node = root;
    for (const segment of segments) {
      let child = node.children.get(segment);
      if (child === undefined) {
        child = { children: new Map() };
        node.children.set(segment, child);
      }
      node = child;
    }
    if (node.value !== undefined || node.children.size > 0) throw new QueryParseError(key, "given twice");
    node.value = value;
  }
  const parsed = toValue(root, "");
  if (typeof parsed === "string" || Array.isArray(parsed)) throw new QueryParseError("(root)", "not a structure");
  return parsed;
}

function toValue(node: Node, path: string): QueryValue {
  if (node.value !== undefined) {
    if (node.children.size > 0) throw new QueryParseError(path, "is both a value and a structure");
    return node.value;
  }
  const keys = [...node.children.keys()];
  const isList = keys.length > 0 && keys.every((key) => /^[1-9][0-9]*$/.test(key));
  if (isList) {
    // Order by index; EC2 does not require the indexes to be contiguous, only distinct.
    return keys
      .map((key) => [Number(key), node.children.get(key)] as const)
      .sort(([a], [b]) => a - b)
      .map(([index, child]) => toValue(child as Node, `${path}.${index}`));
  }
  const struct: QueryStruct = {};
  for (const [key, child] of node.children) {
    if (/^[0-9]+$/.test(key)) throw new QueryParseError(`${path}.${key}`, "list index mixed with member names");
    struct[key] = toValue(child, path === "" ? key : `${path}.${key}`);
  }
  return struct;
}

/** Typed readers that raise the error EC2 gives for a bad or missing parameter. */
export class QueryReader {
  readonly params: QueryStruct;
  readonly #invalid: (message: string) => Error;
  constructor(params: QueryStruct, invalid: (message: string) => Error) {
    this.params = params;
    this.#invalid = invalid;
  }

  static at(value: QueryValue | undefined, invalid: (message: string) => Error): QueryReader {
    if (value === undefined) return new QueryReader({}, invalid);
    if (typeof value === "string" || Array.isArray(value)) throw invalid("expected a structure");
    return new QueryReader(value, invalid);
  }

  string(name: string): string | undefined {
    const value = this.params[name];
    if (value === undefined) return undefined;
    if (typeof value !== "string") throw this.#invalid(`Value for parameter ${name} must be a string`);
    return value;
  }

  requiredString(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === "") {
      throw this.#invalid(`The request must contain the parameter ${name}`);
    }
    return value;
  }

  boolean(name: string): boolean | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (value !== "true" && value !== "false") {
      throw this.#invalid(`Value (${value}) for parameter ${name} is invalid. Expected: 'true' or 'false'.`);
    }
    return value === "true";
  }

  integer(name: string): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!/^-?[0-9]+$/.test(value)) throw this.#invalid(`Value (${value}) for parameter ${name} is invalid. Expected an integer.`);
    return Number(value);
  }

  strings(name: string): string[] {
    const value = this.params[name];
    if (value === undefined) return [];
    if (!Array.isArray(value) || value.some((member) => typeof member !== "string")) {
      throw this.#invalid(`Value for parameter ${name} must be a list of strings (${name}.1, ${name}.2, ...)`);
    }
    return value as string[];
  }

  structs(name: string): QueryReader[] {
    const value = this.params[name];
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw this.#invalid(`Value for parameter ${name} must be a list (${name}.1.*, ...)`);
    return value.map((member) => QueryReader.at(member, this.#invalid));
  }

  struct(name: string): QueryReader {
    return QueryReader.at(this.params[name], this.#invalid);
  }
}
