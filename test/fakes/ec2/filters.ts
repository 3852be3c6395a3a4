/**
 * EC2 `Filter.N.Name` / `Filter.N.Value.N` semantics: filters AND together, the values of one
 * filter OR together, values may use `*` and `?` wildcards (`\` escapes them), `tag:<key>` matches
 * a tag's value and `tag-key` a tag's key. An unknown filter name is an error, as in EC2.
 */
import { Ec2ApiError } from "./errors.ts";
import type { QueryReader } from "./query.ts";
import type { Tags } from "./state.ts";

export interface Filter {
  readonly name: string;
  readonly values: readonly string[];
}

export function readFilters(filterReaders: QueryReader[]): Filter[] {
  return filterReaders.map((filter) => ({ name: filter.requiredString("Name"), values: filter.strings("Value") }));
}

function wildcardPattern(value: string): RegExp {
  let source = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === "\\" && i + 1 < value.length) source += escapeRegExp(value[++i] as string);
    else if (c === "*") source += ".*";
    else if (c === "?") source += ".";
    else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`, "s");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * `fields` maps the filter names a Describe call supports to the resource's value(s) for it.
 */
export function matchesFilters(
  filters: readonly Filter[],
  fields: Readonly<Record<string, string | readonly string[] | undefined>>,
  tags: Tags,
): boolean {
  return filters.every((filter) => {
    const patterns = filter.values.map(wildcardPattern);
    const matchesAny = (candidates: readonly string[]): boolean =>
      candidates.some((candidate) => patterns.some((pattern) => pattern.test(candidate)));
    if (filter.name.startsWith("tag:")) {
      const value = tags.get(filter.name.slice("tag:".length));
      return value !== undefined && matchesAny([value]);
    }
    if (filter.name === "tag-key") return matchesAny([...tags.keys()]);
    if (filter.name === "tag-value") return matchesAny([...tags.values()]);
    if (!Object.hasOwn(fields, filter.name)) {
      throw new Ec2ApiError("InvalidParameterValue", `The filter '${filter.name}' is invalid`);
    }
    const value = fields[filter.name];
    if (value === undefined) return false;
    return matchesAny(typeof value === "string" ? [value] : value);
  });
}
